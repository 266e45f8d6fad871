// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title TEEInferenceVerifier
/// @notice Small devnet stand-in for the contract that checks individual LLM settlements on OG EVM. It keeps
///         the TEE registry address and emits `RegistryUpdated(address indexed, address indexed)` when the
///         owner changes it (also once at deployment, from address(0)).
/// @dev    Devnet simplification: `verifySettlement` checks only the timestamp window the real verifier
///         enforces, [block.timestamp - 1 h, block.timestamp + 5 min]; the TEE signature check (RSA-PSS via
///         the 0x900 precompile against the registry's key) is skipped.
contract TEEInferenceVerifier is Ownable {
    uint256 public constant MAX_SETTLEMENT_AGE = 1 hours;
    uint256 public constant MAX_CLOCK_SKEW = 5 minutes;

    address public registry;

    event RegistryUpdated(address indexed oldRegistry, address indexed newRegistry);

    constructor(address initialRegistry) Ownable(msg.sender) {
        registry = initialRegistry;
        emit RegistryUpdated(address(0), initialRegistry);
    }

    function setRegistry(address newRegistry) external onlyOwner {
        address old = registry;
        registry = newRegistry;
        emit RegistryUpdated(old, newRegistry);
    }

    function verifySettlement(
        bytes32, /* teeId */
        bytes32, /* inputHash */
        bytes32, /* outputHash */
        uint256 timestamp,
        bytes calldata /* signature */
    ) external view returns (bool) {
        return timestamp + MAX_SETTLEMENT_AGE >= block.timestamp && timestamp <= block.timestamp + MAX_CLOCK_SKEW;
    }
}
