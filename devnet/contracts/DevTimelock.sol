// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title DevTimelock
/// @notice A timelock that can own a devnet market, so a fee change arrives as `execute` on the timelock
///         (tx `to` is not the market). Plain OpenZeppelin TimelockController: events CallScheduled,
///         CallExecuted, CallSalt, Cancelled and MinDelayChange keep their OpenZeppelin shapes.
contract DevTimelock is TimelockController {
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
