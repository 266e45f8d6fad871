// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title TEERegistryBase
/// @notice Shared state and mutators of the devnet TEE node registries (TEERegistryV1, TEERegistryOHTTP).
///         The real registry's write interface is not public, so the mutators are our own:
///           addTEEType(uint8 typeId, string name)                       admin
///           setAWSRootCertificate(bytes certificate)                    admin
///           approvePCR(bytes32 pcrHash, uint8 teeType, string version)  admin
///           revokePCR(bytes32 pcrHash, uint8 teeType)                   admin
///           setHeartbeatMaxAge(uint256 maxAge)                          admin (default 1800 s, no event)
///           registerTEE(address owner, address paymentAddress, string endpoint, bytes publicKey,
///                       bytes tlsCertificate, bytes32 pcrHash, uint8 teeType) returns (bytes32 teeId)
///                                                                       admin or TEE_OPERATOR_ROLE
///           enableTEE(bytes32 teeId) / disableTEE(bytes32 teeId)        TEE owner, admin or operator
///           heartbeat(bytes32 teeId, uint256 timestamp)                 TEE owner, admin or operator
///         Roles: DEFAULT_ADMIN_ROLE (0x00) and TEE_OPERATOR_ROLE = keccak256("TEE_OPERATOR_ROLE"), both
///         granted to the constructor's `admin`. The constructor adds types 0 "LLMProxy" and 1 "Validator".
/// @dev    teeId = keccak256(publicKey). DEVNET: the attestation check is SKIPPED (see ATTESTATION_CHECK):
///         the real registry verifies an AWS Nitro attestation document through the 0x900 precompile and
///         derives pcrHash from it; here the caller supplies pcrHash. Registration does not require the
///         PCR to be approved (an unapproved PCR only makes the TEE inactive). A new TEE starts enabled
///         with lastHeartbeatAt = registration time. Active = enabled and
///         block.timestamp - lastHeartbeatAt <= heartbeatMaxAge and PCR approved for its type.
abstract contract TEERegistryBase is AccessControl {
    bytes32 internal constant TEE_OPERATOR_ROLE = keccak256("TEE_OPERATOR_ROLE");
    uint256 internal constant DEFAULT_HEARTBEAT_MAX_AGE = 1800;

    /// @notice The attestation check of registerTEE is skipped on the devnet.
    string public constant ATTESTATION_CHECK = "skipped-devnet";

    struct TEEInfo {
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
    }

    struct TEETypeInfo {
        string name;
        uint256 addedAt;
    }

    struct PCRKey {
        bytes32 pcrHash;
        uint8 teeType;
    }

    mapping(bytes32 => TEEInfo) internal _tees;
    mapping(uint8 => bytes32[]) internal _teesByType;
    uint8[] internal _typeIds;
    mapping(uint8 => TEETypeInfo) internal _typeInfo;
    PCRKey[] internal _approvedPCRs;
    /// @dev index + 1 into _approvedPCRs, 0 = not approved.
    mapping(uint8 => mapping(bytes32 => uint256)) internal _pcrSlot;
    uint256 internal _heartbeatMaxAge;
    bytes32 internal _awsRootCertificateHash;

    event TEERegistered(bytes32 indexed teeId, address indexed owner, uint8 teeType);
    event TEEEnabled(bytes32 indexed teeId);
    event TEEDisabled(bytes32 indexed teeId);
    event TEETypeAdded(uint8 indexed typeId, string name);
    event PCRApproved(bytes32 indexed pcrHash, uint8 indexed teeType, string version);
    event PCRRevoked(bytes32 indexed pcrHash, uint8 indexed teeType);
    event AWSCertificateUpdated(bytes32 indexed certHash);

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(TEE_OPERATOR_ROLE, admin);
        _heartbeatMaxAge = DEFAULT_HEARTBEAT_MAX_AGE;
        _addTEEType(0, "LLMProxy");
        _addTEEType(1, "Validator");
    }

    modifier onlyTEEManager(bytes32 teeId) {
        require(_tees[teeId].registeredAt != 0, "TEE not registered");
        require(
            msg.sender == _tees[teeId].owner || hasRole(DEFAULT_ADMIN_ROLE, msg.sender)
                || hasRole(TEE_OPERATOR_ROLE, msg.sender),
            "Not allowed"
        );
        _;
    }

    // ----- admin -----

    function addTEEType(uint8 typeId, string calldata name) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _addTEEType(typeId, name);
    }

    function setAWSRootCertificate(bytes calldata certificate) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _awsRootCertificateHash = keccak256(certificate);
        emit AWSCertificateUpdated(_awsRootCertificateHash);
    }

    function approvePCR(bytes32 pcrHash, uint8 teeType, string calldata version)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        require(_typeInfo[teeType].addedAt != 0, "Unknown TEE type");
        require(_pcrSlot[teeType][pcrHash] == 0, "PCR already approved");
        _approvedPCRs.push(PCRKey(pcrHash, teeType));
        _pcrSlot[teeType][pcrHash] = _approvedPCRs.length;
        emit PCRApproved(pcrHash, teeType, version);
    }

    function revokePCR(bytes32 pcrHash, uint8 teeType) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 slot = _pcrSlot[teeType][pcrHash];
        require(slot != 0, "PCR not approved");
        uint256 last = _approvedPCRs.length;
        if (slot != last) {
            PCRKey memory moved = _approvedPCRs[last - 1];
            _approvedPCRs[slot - 1] = moved;
            _pcrSlot[moved.teeType][moved.pcrHash] = slot;
        }
        _approvedPCRs.pop();
        delete _pcrSlot[teeType][pcrHash];
        emit PCRRevoked(pcrHash, teeType);
    }

    function setHeartbeatMaxAge(uint256 maxAge) external onlyRole(DEFAULT_ADMIN_ROLE) {
        require(maxAge > 0, "Invalid max age");
        _heartbeatMaxAge = maxAge;
    }

    // ----- TEEs -----

    function registerTEE(
        address owner,
        address paymentAddress,
        string calldata endpoint,
        bytes calldata publicKey,
        bytes calldata tlsCertificate,
        bytes32 pcrHash,
        uint8 teeType
    ) external returns (bytes32 teeId) {
        require(
            hasRole(DEFAULT_ADMIN_ROLE, msg.sender) || hasRole(TEE_OPERATOR_ROLE, msg.sender), "Not allowed"
        );
        require(owner != address(0), "Invalid owner");
        require(_typeInfo[teeType].addedAt != 0, "Unknown TEE type");
        require(publicKey.length > 0, "Empty public key");
        // DEVNET: no attestation document is verified here (ATTESTATION_CHECK = "skipped-devnet").
        teeId = keccak256(publicKey);
        TEEInfo storage t = _tees[teeId];
        require(t.registeredAt == 0, "TEE already registered");
        t.owner = owner;
        t.paymentAddress = paymentAddress;
        t.endpoint = endpoint;
        t.publicKey = publicKey;
        t.tlsCertificate = tlsCertificate;
        t.pcrHash = pcrHash;
        t.teeType = teeType;
        t.enabled = true;
        t.registeredAt = block.timestamp;
        t.lastHeartbeatAt = block.timestamp;
        _teesByType[teeType].push(teeId);
        emit TEERegistered(teeId, owner, teeType);
    }

    function enableTEE(bytes32 teeId) external onlyTEEManager(teeId) {
        require(!_tees[teeId].enabled, "TEE already enabled");
        _tees[teeId].enabled = true;
        emit TEEEnabled(teeId);
    }

    function disableTEE(bytes32 teeId) external onlyTEEManager(teeId) {
        require(_tees[teeId].enabled, "TEE already disabled");
        _tees[teeId].enabled = false;
        emit TEEDisabled(teeId);
    }

    /// @notice Records a heartbeat signed at `timestamp` (not in the future).
    function heartbeat(bytes32 teeId, uint256 timestamp) external onlyTEEManager(teeId) {
        require(timestamp <= block.timestamp, "Heartbeat from the future");
        _tees[teeId].lastHeartbeatAt = timestamp;
        _onHeartbeat(teeId, timestamp);
    }

    /// @dev Hook: the V1 registry emits HeartbeatReceived, the OHTTP registry emits nothing.
    function _onHeartbeat(bytes32 teeId, uint256 timestamp) internal virtual;

    // ----- internal views -----

    function _addTEEType(uint8 typeId, string memory name) internal {
        require(_typeInfo[typeId].addedAt == 0, "TEE type exists");
        _typeIds.push(typeId);
        _typeInfo[typeId] = TEETypeInfo(name, block.timestamp);
        emit TEETypeAdded(typeId, name);
    }

    function _isActive(bytes32 teeId) internal view returns (bool) {
        TEEInfo storage t = _tees[teeId];
        return t.registeredAt != 0 && t.enabled && block.timestamp - t.lastHeartbeatAt <= _heartbeatMaxAge
            && _pcrSlot[t.teeType][t.pcrHash] != 0;
    }

    function _filterTEEs(uint8 teeType, bool activeOnly) internal view returns (bytes32[] memory ids) {
        bytes32[] storage all = _teesByType[teeType];
        ids = new bytes32[](all.length);
        uint256 n = 0;
        for (uint256 i = 0; i < all.length; i++) {
            bytes32 id = all[i];
            if (activeOnly ? _isActive(id) : _tees[id].enabled) ids[n++] = id;
        }
        assembly ("memory-safe") {
            mstore(ids, n)
        }
    }
}
