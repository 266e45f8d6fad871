// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TEERegistryBase} from "./TEERegistryBase.sol";

/// @title TEERegistryOHTTP
/// @notice Devnet stand-in for OpenGradient's newer TEE registry, whose source is not public: ONLY the views
///         of TEERegistry.views-ohttp.json (TEE info with the extra OHTTP key-config tuple); it has no
///         getTEETypes / getApprovedPCRs / heartbeatMaxAge / isPCRApproved views.
/// @dev    Devnet choice: it emits TEERegistered, TEEEnabled, TEEDisabled, PCRApproved, PCRRevoked (and
///         TEETypeAdded, AWSCertificateUpdated, role events) but NOT HeartbeatReceived: its heartbeats are
///         visible only through getTEE(...).lastHeartbeatAt / isTEEActive. This exercises a monitor that
///         collects from views as well as events. Mutators (see TEERegistryBase) plus
///         setOhttpConfig(bytes32 teeId, uint8 keyId, uint16 kemId, uint16 kdfId, uint16 aeadId,
///         bytes publicKey, bytes keyConfig) for the TEE owner, an admin or an operator (no event).
///         The attestation check is SKIPPED as in TEERegistryV1.
contract TEERegistryOHTTP is TEERegistryBase {
    struct OhttpConfig {
        uint8 keyId;
        uint16 kemId;
        uint16 kdfId;
        uint16 aeadId;
        bytes publicKey;
        bytes keyConfig;
        uint256 registeredAt;
    }

    struct TEEInfoOHTTP {
        address owner;
        address paymentAddress;
        string endpoint;
        bytes publicKey;
        bytes tlsCertificate;
        bytes32 pcrHash;
        uint8 teeType;
        bool enabled;
        uint256 registeredAt;
        uint256 lastHeartbeatAt;
        OhttpConfig ohttpConfig;
    }

    mapping(bytes32 => OhttpConfig) internal _ohttp;

    constructor(address admin) TEERegistryBase(admin) {}

    function _onHeartbeat(bytes32, uint256) internal override {}

    function setOhttpConfig(
        bytes32 teeId,
        uint8 keyId,
        uint16 kemId,
        uint16 kdfId,
        uint16 aeadId,
        bytes calldata publicKey,
        bytes calldata keyConfig
    ) external onlyTEEManager(teeId) {
        OhttpConfig storage c = _ohttp[teeId];
        c.keyId = keyId;
        c.kemId = kemId;
        c.kdfId = kdfId;
        c.aeadId = aeadId;
        c.publicKey = publicKey;
        c.keyConfig = keyConfig;
        c.registeredAt = block.timestamp;
    }

    function getTEEsByType(uint8 teeType) external view returns (bytes32[] memory) {
        return _teesByType[teeType];
    }

    function getEnabledTEEs(uint8 teeType) external view returns (bytes32[] memory) {
        return _filterTEEs(teeType, false);
    }

    function getActiveTEEs(uint8 teeType) external view returns (TEEInfoOHTTP[] memory infos) {
        bytes32[] memory ids = _filterTEEs(teeType, true);
        infos = new TEEInfoOHTTP[](ids.length);
        for (uint256 i = 0; i < ids.length; i++) {
            infos[i] = _info(ids[i]);
        }
    }

    function getTEE(bytes32 teeId) external view returns (TEEInfoOHTTP memory) {
        return _info(teeId);
    }

    function isTEEActive(bytes32 teeId) external view returns (bool) {
        return _isActive(teeId);
    }

    function isTEEEnabled(bytes32 teeId) external view returns (bool) {
        return _tees[teeId].enabled;
    }

    function _info(bytes32 teeId) internal view returns (TEEInfoOHTTP memory info) {
        TEEInfo storage t = _tees[teeId];
        info.owner = t.owner;
        info.paymentAddress = t.paymentAddress;
        info.endpoint = t.endpoint;
        info.publicKey = t.publicKey;
        info.tlsCertificate = t.tlsCertificate;
        info.pcrHash = t.pcrHash;
        info.teeType = t.teeType;
        info.enabled = t.enabled;
        info.registeredAt = t.registeredAt;
        info.lastHeartbeatAt = t.lastHeartbeatAt;
        info.ohttpConfig = _ohttp[teeId];
    }
}
