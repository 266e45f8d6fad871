// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SimpleMultisig
/// @notice M-of-N multisig that can own a devnet market, so a fee change arrives as an inner call of a
///         multisig transaction. Safe-style views getOwners() / getThreshold(); a submission counts as the
///         submitter's confirmation, and the call runs as soon as the threshold is reached (possibly in
///         `submit` itself when the threshold is 1).
/// @dev    The inner call's failure is recorded (`Executed(id, false)`), not bubbled, so a reverted setter
///         call (e.g. above the market's cap) still lands in a successful transaction. A transaction runs
///         at most once, whatever its outcome.
contract SimpleMultisig {
    struct Transaction {
        address to;
        uint256 value;
        bytes data;
        bool executed;
        bool success;
        uint256 confirmations;
    }

    address[] private _owners;
    mapping(address => bool) public isOwner;
    uint256 private _threshold;
    Transaction[] private _transactions;
    mapping(uint256 => mapping(address => bool)) public isConfirmed;

    event Submitted(uint256 indexed id, address indexed to, bytes data);
    event Confirmed(uint256 indexed id, address indexed owner);
    event Executed(uint256 indexed id, bool success);

    modifier onlyOwner() {
        require(isOwner[msg.sender], "Not an owner");
        _;
    }

    constructor(address[] memory owners_, uint256 threshold_) {
        require(owners_.length > 0, "No owners");
        require(threshold_ > 0 && threshold_ <= owners_.length, "Invalid threshold");
        for (uint256 i = 0; i < owners_.length; i++) {
            address o = owners_[i];
            require(o != address(0) && !isOwner[o], "Invalid or duplicate owner");
            isOwner[o] = true;
            _owners.push(o);
        }
        _threshold = threshold_;
    }

    receive() external payable {}

    function getOwners() external view returns (address[] memory) {
        return _owners;
    }

    function getThreshold() external view returns (uint256) {
        return _threshold;
    }

    function transactionCount() external view returns (uint256) {
        return _transactions.length;
    }

    function getTransaction(uint256 id)
        external
        view
        returns (address to, uint256 value, bytes memory data, bool executed, bool success, uint256 confirmations)
    {
        Transaction storage t = _transactions[id];
        return (t.to, t.value, t.data, t.executed, t.success, t.confirmations);
    }

    function submit(address to, uint256 value, bytes calldata data) external onlyOwner returns (uint256 id) {
        id = _transactions.length;
        Transaction storage t = _transactions.push();
        t.to = to;
        t.value = value;
        t.data = data;
        emit Submitted(id, to, data);
        _confirm(id);
    }

    function confirm(uint256 id) external onlyOwner {
        require(id < _transactions.length, "Unknown transaction");
        _confirm(id);
    }

    function _confirm(uint256 id) private {
        Transaction storage t = _transactions[id];
        require(!t.executed, "Already executed");
        require(!isConfirmed[id][msg.sender], "Already confirmed");
        isConfirmed[id][msg.sender] = true;
        t.confirmations += 1;
        emit Confirmed(id, msg.sender);
        if (t.confirmations >= _threshold) {
            t.executed = true;
            (bool ok,) = t.to.call{value: t.value}(t.data);
            t.success = ok;
            emit Executed(id, ok);
        }
    }
}
