// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import "./OGInference.sol";
import {InferenceHub} from "./InferenceHub.sol";

/// @title InferenceCaller
/// @notice A user contract that calls the InferenceHub, so a trace shows caller -> hub -> precompile and the
///         transaction's `to` is neither the hub nor the precompile. Several instances are deployed on the
///         devnet to stand for different users. Emits no event of its own.
contract InferenceCaller {
    InferenceHub public immutable hub;

    constructor(address hub_) {
        hub = InferenceHub(hub_);
    }

    function runML(string memory modelId, uint8 mode, ModelInput memory input)
        external
        returns (ModelOutput memory)
    {
        return hub.run(modelId, mode, input);
    }

    function runChat(LLMChatRequest memory request) external returns (LLMChatResponse memory) {
        return hub.runLLMChat(request);
    }

    function runCompletion(LLMCompletionRequest memory request) external returns (LLMCompletionResponse memory) {
        return hub.runLLMCompletion(request);
    }
}
