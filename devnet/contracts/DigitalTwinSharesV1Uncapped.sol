// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TwinSharesBase} from "./TwinSharesBase.sol";

/// @title DigitalTwinSharesV1Uncapped
/// @notice Devnet implementation with the ABI and storage layout of DigitalTwinSharesV1 but NO ceiling on
///         the fee-percent setters. It stands in for "an implementation the owner can upgrade the proxy to"
///         to remove the 5 % cap: the change is visible on chain only as `Upgraded(address)` plus the new
///         implementation address at the ERC-1967 slot.
contract DigitalTwinSharesV1Uncapped is TwinSharesBase {
    function _checkFee(uint256) internal pure override {}
}
