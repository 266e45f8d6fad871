// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// OGInference: types and interface of OpenGradient's on-chain inference precompile (alpha testnet, address
// 0x00000000000000000000000000000000000000F4), as in InferencePrecompile.json / InferenceHub.json.
// Shared by the precompile stand-in, the hub, the callers and the workflow contract.
// ML mode enum: VANILLA = 0, ZKML = 1, TEE = 2; LLM mode enum: VANILLA = 0, TEE = 1.

address constant OG_INFERENCE_PRECOMPILE = 0x00000000000000000000000000000000000000F4;

library TensorLib {
    struct Number {
        int128 value;
        int128 decimals;
    }

    struct MultiDimensionalNumberTensor {
        string name;
        Number[] values;
        uint32[] shape;
    }

    struct StringTensor {
        string name;
        string[] values;
    }

    struct JsonScalar {
        string name;
        string value;
    }
}

enum ModelInferenceMode {
    VANILLA,
    ZKML,
    TEE
}

enum LLMInferenceMode {
    VANILLA,
    TEE
}

struct ModelInput {
    TensorLib.MultiDimensionalNumberTensor[] numbers;
    TensorLib.StringTensor[] strings;
}

struct ModelInferenceRequest {
    ModelInferenceMode mode;
    string modelCID;
    ModelInput input;
}

struct ModelOutput {
    TensorLib.MultiDimensionalNumberTensor[] numbers;
    TensorLib.StringTensor[] strings;
    TensorLib.JsonScalar[] jsons;
    bool is_simulation_result;
}

struct ToolCall {
    string id;
    string name;
    string arguments;
}

struct ChatMessage {
    string role;
    string content;
    string name;
    string tool_call_id;
    ToolCall[] tool_calls;
}

struct ToolDefinition {
    string description;
    string name;
    string parameters;
}

struct LLMChatRequest {
    LLMInferenceMode mode;
    string modelCID;
    ChatMessage[] messages;
    ToolDefinition[] tools;
    string tool_choice;
    uint32 max_tokens;
    string[] stop_sequence;
    uint32 temperature;
}

struct LLMChatResponse {
    string finish_reason;
    ChatMessage message;
}

struct LLMCompletionRequest {
    LLMInferenceMode mode;
    string modelCID;
    string prompt;
    uint32 max_tokens;
    string[] stop_sequence;
    uint32 temperature;
}

struct LLMCompletionResponse {
    string answer;
}

interface IOGInference {
    function runModelInference(ModelInferenceRequest memory request) external returns (ModelOutput memory);

    function runLLMChat(LLMChatRequest memory request) external returns (LLMChatResponse memory);

    function runLLMCompletion(LLMCompletionRequest memory request) external returns (LLMCompletionResponse memory);
}
