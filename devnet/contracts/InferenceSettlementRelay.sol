// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {TEEInferenceVerifier} from "./TEEInferenceVerifier.sol";

/// @title InferenceSettlementRelay
/// @notice Devnet stand-in for OpenGradient's settlement relay v2 on OG EVM, with its exact ABI: batch
///         settlements (Merkle root of OpenZeppelin StandardMerkleTree leaves, tree dump on Walrus) and
///         individual settlements, both restricted to SETTLEMENT_RELAY_ROLE. The deployer becomes owner,
///         DEFAULT_ADMIN_ROLE and SETTLEMENT_RELAY_ROLE holder.
/// @dev    Devnet choice: when SETTLEMENT_CONTRACT is not address(0), settleIndividual asks it
///         (TEEInferenceVerifier.verifySettlement) and reverts on a rejected settlement; deploy with
///         address(0) to skip that check entirely.
contract InferenceSettlementRelay is Ownable, AccessControl {
    bytes32 public constant SETTLEMENT_RELAY_ROLE = keccak256("SETTLEMENT_RELAY_ROLE");

    TEEInferenceVerifier public immutable SETTLEMENT_CONTRACT;

    event BatchSettlement(bytes32 indexed merkleRoot, uint256 batchSize, bytes walrusBlobId);
    event IndividualSettlement(
        bytes32 indexed teeId,
        address indexed ethAddress,
        bytes32 inputHash,
        bytes32 outputHash,
        uint256 timestamp,
        bytes walrusBlobId,
        bytes signature
    );

    constructor(address _settlement_contract) Ownable(msg.sender) {
        SETTLEMENT_CONTRACT = TEEInferenceVerifier(_settlement_contract);
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
        _grantRole(SETTLEMENT_RELAY_ROLE, msg.sender);
    }

    function batchSettle(bytes32 _merkleRoot, uint256 _batchSize, bytes calldata _walrusBlobId)
        external
        onlyRole(SETTLEMENT_RELAY_ROLE)
    {
        require(_merkleRoot != bytes32(0), "Empty merkle root");
        require(_batchSize > 0, "Empty batch");
        emit BatchSettlement(_merkleRoot, _batchSize, _walrusBlobId);
    }

    function settleIndividual(
        bytes32 _teeId,
        bytes32 _inputHash,
        bytes32 _outputHash,
        uint256 _timestamp,
        address _ethAddress,
        bytes calldata _walrusBlobId,
        bytes calldata _signature
    ) external onlyRole(SETTLEMENT_RELAY_ROLE) {
        if (address(SETTLEMENT_CONTRACT) != address(0)) {
            require(
                SETTLEMENT_CONTRACT.verifySettlement(_teeId, _inputHash, _outputHash, _timestamp, _signature),
                "Settlement rejected by verifier"
            );
        }
        emit IndividualSettlement(
            _teeId, _ethAddress, _inputHash, _outputHash, _timestamp, _walrusBlobId, _signature
        );
    }

    function verifyProof(bytes32[] calldata _proof, bytes32 _root, bytes32 _leaf) external pure returns (bool) {
        return MerkleProof.verify(_proof, _root, _leaf);
    }
}
