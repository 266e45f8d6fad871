// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SlotZeroOwnable
/// @notice Minimal single-owner access control for the non-upgradeable devnet markets, with the owner in
///         storage slot 0 (as in friend.tech's FriendtechSharesV1) and revert strings instead of custom
///         errors, so the market's ABI holds no error the real one lacks.
abstract contract SlotZeroOwnable {
    address private _owner;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    constructor() {
        _setOwner(msg.sender);
    }

    modifier onlyOwner() {
        require(msg.sender == _owner, "Caller is not the owner");
        _;
    }

    function owner() public view returns (address) {
        return _owner;
    }

    function renounceOwnership() public onlyOwner {
        _setOwner(address(0));
    }

    function transferOwnership(address newOwner) public onlyOwner {
        require(newOwner != address(0), "New owner is the zero address");
        _setOwner(newOwner);
    }

    function _setOwner(address newOwner) private {
        address previous = _owner;
        _owner = newOwner;
        emit OwnershipTransferred(previous, newOwner);
    }
}
