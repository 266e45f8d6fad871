// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import "./OGInference.sol";
import {InferenceHub} from "./InferenceHub.sol";

enum CandleOrder {
    Ascending,
    Descending
}

enum CandleType {
    High,
    Low,
    Open,
    Close,
    Volume
}

struct HistoricalInputQuery {
    string base;
    string quote;
    uint32 total_candles;
    uint32 candle_duration_in_mins;
    CandleOrder order;
    CandleType[] candle_types;
}

/// @notice Placeholder type of the price-history precompile the real workflow reads candles from.
interface OGHistorical {}

/// @title PriceHistoryInference
/// @notice Devnet stand-in for OpenGradient's scheduled workflow contract (a price-volatility model run on
///         recent candles), with its exact ABI: run() performs one VANILLA ML inference and emits
///         InferenceResultEmitted(address indexed caller, ModelOutput result).
/// @dev    Devnet simplifications: there is no price-history precompile (historicalContract() is
///         address(0)); the query is stored but not used: the input is one number tensor named `inputName`
///         with min(total_candles, 64) (at least 1) pseudo-prices derived from the block number, 2 decimals.
///         The inference goes through the InferenceHub set with setHub(address) (devnet-only, deployer
///         only); while no hub is set it calls the precompile at 0x...F4 directly. getLastInferenceResults(n)
///         returns the last min(n, count) results, oldest first.
contract PriceHistoryInference {
    OGHistorical public constant historicalContract = OGHistorical(address(0));
    uint256 internal constant MAX_INPUT_CANDLES = 64;

    string public modelId;
    string public inputName;
    HistoricalInputQuery public inputQuery;
    address public hub;
    address private immutable _deployer;
    bytes[] private _results;

    event InferenceResultEmitted(address indexed caller, ModelOutput result);

    constructor(string memory _modelId, string memory _inputName, HistoricalInputQuery memory _query) {
        modelId = _modelId;
        inputName = _inputName;
        inputQuery.base = _query.base;
        inputQuery.quote = _query.quote;
        inputQuery.total_candles = _query.total_candles;
        inputQuery.candle_duration_in_mins = _query.candle_duration_in_mins;
        inputQuery.order = _query.order;
        for (uint256 i = 0; i < _query.candle_types.length; i++) {
            inputQuery.candle_types.push(_query.candle_types[i]);
        }
        _deployer = msg.sender;
    }

    /// @notice DEVNET ONLY: route run() through this InferenceHub (address(0): call the precompile directly).
    function setHub(address hub_) external {
        require(msg.sender == _deployer, "Not the deployer");
        hub = hub_;
    }

    function run() external {
        ModelInput memory input = _buildInput();
        ModelOutput memory result;
        if (hub != address(0)) {
            result = InferenceHub(hub).run(modelId, uint8(ModelInferenceMode.VANILLA), input);
        } else {
            result = IOGInference(OG_INFERENCE_PRECOMPILE).runModelInference(
                ModelInferenceRequest({mode: ModelInferenceMode.VANILLA, modelCID: modelId, input: input})
            );
        }
        _results.push(abi.encode(result));
        emit InferenceResultEmitted(msg.sender, result);
    }

    function getInferenceResult() external view returns (ModelOutput memory result) {
        if (_results.length == 0) return result;
        return abi.decode(_results[_results.length - 1], (ModelOutput));
    }

    function getLastInferenceResults(uint256 num) external view returns (ModelOutput[] memory results) {
        uint256 count = _results.length;
        if (num > count) num = count;
        results = new ModelOutput[](num);
        for (uint256 i = 0; i < num; i++) {
            results[i] = abi.decode(_results[count - num + i], (ModelOutput));
        }
    }

    function _buildInput() internal view returns (ModelInput memory input) {
        uint256 n = inputQuery.total_candles;
        if (n == 0) n = 1;
        if (n > MAX_INPUT_CANDLES) n = MAX_INPUT_CANDLES;
        TensorLib.MultiDimensionalNumberTensor memory tensor;
        tensor.name = inputName;
        tensor.values = new TensorLib.Number[](n);
        tensor.shape = new uint32[](1);
        tensor.shape[0] = uint32(n);
        for (uint256 i = 0; i < n; i++) {
            uint256 noise = uint256(keccak256(abi.encode(block.number, i))) % 10_000;
            tensor.values[i] = TensorLib.Number({value: int128(int256(200_000 + noise)), decimals: 2});
        }
        input.numbers = new TensorLib.MultiDimensionalNumberTensor[](1);
        input.numbers[0] = tensor;
        input.strings = new TensorLib.StringTensor[](0);
    }
}
