// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import "./OGInference.sol";

/// @title InferencePrecompileStandIn
/// @notice Devnet stand-in for the inference precompile at 0x00000000000000000000000000000000000000F4. Its
///         RUNTIME bytecode is placed at that address with anvil_setCode, so it has no constructor, no
///         immutables and relies on no initialized storage (slot 0 = inference counter, slot 1 = the
///         next-simulation flag, both start at zero).
///         Each call emits its event (ModelInferenceEvent, LLMChat, LLMCompletionEvent; exact shapes of
///         InferencePrecompile.events.json) with a unique inferenceID (a per-chain counter as a decimal
///         string: "1", "2", ...) and a deterministic response:
///           - ML: the input's number and string tensors echoed back, jsons = [("model", modelCID)],
///             is_simulation_result = the flag set by setNextSimulation (applies to the next inference only);
///           - chat: finish_reason "stop", an assistant message "echo: <last message content>";
///           - completion: answer "echo: <prompt>".
///         setNextSimulation(bool) is a devnet-only function, callable by anyone.
contract InferencePrecompileStandIn is IOGInference {
    uint256 private _inferenceCount;
    bool private _nextSimulation;

    event ModelInferenceEvent(string inferenceID, ModelInferenceRequest request, ModelOutput response);
    event LLMChat(string inferenceID, LLMChatRequest request, LLMChatResponse response);
    event LLMCompletionEvent(string inferenceID, LLMCompletionRequest request, LLMCompletionResponse response);

    /// @notice DEVNET ONLY: mark the next ML inference's output as a simulation result.
    function setNextSimulation(bool value) external {
        _nextSimulation = value;
    }

    function runModelInference(ModelInferenceRequest memory request) external returns (ModelOutput memory output) {
        output.numbers = request.input.numbers;
        output.strings = request.input.strings;
        output.jsons = new TensorLib.JsonScalar[](1);
        output.jsons[0] = TensorLib.JsonScalar("model", request.modelCID);
        if (_nextSimulation) {
            output.is_simulation_result = true;
            _nextSimulation = false;
        }
        emit ModelInferenceEvent(_nextInferenceId(), request, output);
    }

    function runLLMChat(LLMChatRequest memory request) external returns (LLMChatResponse memory response) {
        string memory last = request.messages.length == 0 ? "" : request.messages[request.messages.length - 1].content;
        response.finish_reason = "stop";
        response.message.role = "assistant";
        response.message.content = string.concat("echo: ", last);
        emit LLMChat(_nextInferenceId(), request, response);
    }

    function runLLMCompletion(LLMCompletionRequest memory request)
        external
        returns (LLMCompletionResponse memory response)
    {
        response.answer = string.concat("echo: ", request.prompt);
        emit LLMCompletionEvent(_nextInferenceId(), request, response);
    }

    function _nextInferenceId() private returns (string memory) {
        _inferenceCount += 1;
        return Strings.toString(_inferenceCount);
    }
}
