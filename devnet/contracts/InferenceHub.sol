// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import "./OGInference.sol";

/// @title InferenceHub
/// @notice Devnet stand-in for OpenGradient's InferenceHub user contract (alpha testnet), with its exact ABI:
///         each function calls the inference precompile at 0x...F4 and re-emits the result
///         (InferenceResult, LLMChatResult, LLMCompletionResult). The precompile emits its own event first,
///         in the same transaction. An inferenceMode outside the enum (ML > 2) reverts.
contract InferenceHub {
    event InferenceResult(ModelOutput output);
    event LLMChatResult(LLMChatResponse response);
    event LLMCompletionResult(LLMCompletionResponse response);

    function run(string memory modelId, uint8 inferenceMode, ModelInput memory modelInput)
        external
        returns (ModelOutput memory output)
    {
        ModelInferenceRequest memory request =
            ModelInferenceRequest({mode: ModelInferenceMode(inferenceMode), modelCID: modelId, input: modelInput});
        output = IOGInference(OG_INFERENCE_PRECOMPILE).runModelInference(request);
        emit InferenceResult(output);
    }

    function runLLMChat(LLMChatRequest memory request) external returns (LLMChatResponse memory response) {
        response = IOGInference(OG_INFERENCE_PRECOMPILE).runLLMChat(request);
        emit LLMChatResult(response);
    }

    function runLLMCompletion(LLMCompletionRequest memory request)
        external
        returns (LLMCompletionResponse memory response)
    {
        response = IOGInference(OG_INFERENCE_PRECOMPILE).runLLMCompletion(request);
        emit LLMCompletionResult(response);
    }
}
