// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SettlementRelayV1
/// @notice Devnet stand-in for OpenGradient's first settlement relay: emits exactly the events of the real
///         one (Settlement, BatchSettlement without a blob id, SettlementWithMetadata). Its functions are our
///         own (the real write interface is not public): settle, batchSettle, settleWithMetadata, callable
///         only by the deployer (`relayer`).
contract SettlementRelayV1 {
    address public immutable relayer;

    event Settlement(bytes32 indexed inputHash, bytes32 indexed outputHash);
    event BatchSettlement(bytes32 indexed merkleRoot, uint256 batchSize);
    event SettlementWithMetadata(
        bytes32 indexed inputHash, bytes32 indexed outputHash, string modelInfo, bytes inputData, bytes outputData
    );

    constructor() {
        relayer = msg.sender;
    }

    modifier onlyRelayer() {
        require(msg.sender == relayer, "Not the relayer");
        _;
    }

    function settle(bytes32 inputHash, bytes32 outputHash) external onlyRelayer {
        emit Settlement(inputHash, outputHash);
    }

    function batchSettle(bytes32 merkleRoot, uint256 batchSize) external onlyRelayer {
        emit BatchSettlement(merkleRoot, batchSize);
    }

    function settleWithMetadata(
        bytes32 inputHash,
        bytes32 outputHash,
        string calldata modelInfo,
        bytes calldata inputData,
        bytes calldata outputData
    ) external onlyRelayer {
        emit SettlementWithMetadata(inputHash, outputHash, modelInfo, inputData, outputData);
    }
}
