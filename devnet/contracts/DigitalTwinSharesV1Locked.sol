// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {DigitalTwinSharesV1} from "./DigitalTwinSharesV1.sol";

/// @title DigitalTwinSharesV1Locked
/// @notice Devnet implementation with the ABI and storage layout of DigitalTwinSharesV1 and its 5 % ceiling on
///         both fee-percent setters, but with upgrades disabled: `upgradeToAndCall` always reverts, so nobody,
///         the owner included, can ever lift the ceiling. It stands in for "a capped, non-upgradeable market".
///         The ceiling is readable on chain through `maxFeePercent()`.
contract DigitalTwinSharesV1Locked is DigitalTwinSharesV1 {
    /// @notice The largest value either fee-percent setter accepts (1e18 = 100 %).
    function maxFeePercent() external pure returns (uint256) {
        return MAX_FEE_PERCENT;
    }

    function _authorizeUpgrade(address) internal pure override {
        revert("Upgrades disabled");
    }
}
