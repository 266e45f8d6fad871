// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Batcher
/// @notice Owner-only batching contract: performs calls in order in one transaction and reverts the whole
///         batch if any call fails (the inner revert data is bubbled); plain value transfers to accounts
///         without code are allowed. It lets a fee change and trades land
///         in the same transaction / block, e.g. when the Batcher owns a devnet market and also trades on it
///         (the trader of those trades is then the Batcher).
contract Batcher is Ownable {
    constructor(address initialOwner) Ownable(initialOwner) {}

    /// @notice Receives sale proceeds and refunds of the markets it trades on.
    receive() external payable {}

    function batch(address[] calldata targets, uint256[] calldata values, bytes[] calldata data)
        external
        payable
        onlyOwner
        returns (bytes[] memory results)
    {
        require(targets.length == values.length && targets.length == data.length, "Length mismatch");
        results = new bytes[](targets.length);
        for (uint256 i = 0; i < targets.length; i++) {
            (bool ok, bytes memory ret) = targets[i].call{value: values[i]}(data[i]);
            if (!ok) {
                if (ret.length == 0) revert("Batch call failed");
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
            results[i] = ret;
        }
    }
}
