// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TEERegistryBase} from "./TEERegistryBase.sol";

/// @title TEERegistryV1
/// @notice Devnet stand-in for OpenGradient's older TEE node registry on OG EVM: every view of
///         TEERegistry.views-v1.json and every event of TEERegistry.events.json, including
///         HeartbeatReceived(bytes32 indexed teeId, uint256 timestamp) on each heartbeat.
///         Mutators, roles and devnet simplifications (attestation check SKIPPED): see TEERegistryBase.
contract TEERegistryV1 is TEERegistryBase {
    event HeartbeatReceived(bytes32 indexed teeId, uint256 timestamp);

    constructor(address admin) TEERegistryBase(admin) {}

    function _onHeartbeat(bytes32 teeId, uint256 timestamp) internal override {
        emit HeartbeatReceived(teeId, timestamp);
    }

    function getTEETypes() external view returns (uint8[] memory typeIds, TEETypeInfo[] memory infos) {
        typeIds = _typeIds;
        infos = new TEETypeInfo[](typeIds.length);
        for (uint256 i = 0; i < typeIds.length; i++) {
            infos[i] = _typeInfo[typeIds[i]];
        }
    }

    function getTEEsByType(uint8 teeType) external view returns (bytes32[] memory) {
        return _teesByType[teeType];
    }

    function getEnabledTEEs(uint8 teeType) external view returns (bytes32[] memory) {
        return _filterTEEs(teeType, false);
    }

    function getActiveTEEs(uint8 teeType) external view returns (TEEInfo[] memory infos) {
        bytes32[] memory ids = _filterTEEs(teeType, true);
        infos = new TEEInfo[](ids.length);
        for (uint256 i = 0; i < ids.length; i++) {
            infos[i] = _tees[ids[i]];
        }
    }

    function getTEE(bytes32 teeId) external view returns (TEEInfo memory) {
        return _tees[teeId];
    }

    function isTEEActive(bytes32 teeId) external view returns (bool) {
        return _isActive(teeId);
    }

    function isTEEEnabled(bytes32 teeId) external view returns (bool) {
        return _tees[teeId].enabled;
    }

    function getApprovedPCRs() external view returns (PCRKey[] memory) {
        return _approvedPCRs;
    }

    function heartbeatMaxAge() external view returns (uint256) {
        return _heartbeatMaxAge;
    }

    function isPCRApproved(uint8 teeType, bytes32 pcrHash) external view returns (bool) {
        return _pcrSlot[teeType][pcrHash] != 0;
    }
}
