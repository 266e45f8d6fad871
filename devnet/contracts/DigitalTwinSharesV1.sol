// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TwinSharesBase} from "./TwinSharesBase.sol";

/// @title DigitalTwinSharesV1
/// @notice Devnet stand-in for the Twin.fun market implementation on BSC (deployed behind an ERC-1967
///         proxy, see DevProxy). Same ABI and storage layout as the real contract; the body is our own
///         (see TwinSharesBase for the devnet choices).
/// @dev    Each fee-percent setter reverts above 0.05e18 (5 %). The owner can lift that ceiling only by
///         upgrading the proxy (upgradeToAndCall) to an implementation without it, such as
///         DigitalTwinSharesV1Uncapped.
contract DigitalTwinSharesV1 is TwinSharesBase {
    uint256 internal constant MAX_FEE_PERCENT = 0.05 ether;

    function _checkFee(uint256 feePercent) internal pure override {
        require(feePercent <= MAX_FEE_PERCENT, "Fee percent too high");
    }
}
