// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

enum BondStatus {
    Unspecified,
    Unbonded,
    Unbonding,
    Bonded
}

struct Description {
    string moniker;
    string identity;
    string website;
    string securityContact;
    string details;
}

struct Validator {
    string operatorAddress;
    string consensusPubkey;
    bool jailed;
    BondStatus status;
    uint256 tokens;
    uint256 delegatorShares;
    Description description;
    int64 unbondingHeight;
    int64 unbondingTime;
    uint256 commission;
    uint256 minSelfDelegation;
}

struct PageRequest {
    bytes key;
    uint64 offset;
    uint64 limit;
    bool countTotal;
    bool reverse;
}

struct PageResponse {
    bytes nextKey;
    uint64 total;
}

/// @title StakingPrecompileStandIn
/// @notice Devnet stand-in for the Cosmos EVM staking precompile at 0x0000000000000000000000000000000000000800.
///         Its RUNTIME bytecode is placed there with anvil_setCode: no constructor, no immutables, empty
///         storage at start. Only what the monitor reads matches the real ABI (StakingPrecompile.json):
///           validators(string status, PageRequest pageRequest) -> (Validator[] validators, PageResponse)
///           validator(address validatorAddress) -> Validator (all-zero when unknown)
///         plus the staking events' declarations. Other staking functions are omitted.
/// @dev    Paging: offset/limit over the validators matching `status` (limit 0 = 100), in insertion order
///         (reversed when pageRequest.reverse); pageRequest.key is ignored; nextKey is ALWAYS empty, so a
///         client must page by offset; pageResponse.total = number of matches when countTotal, else 0.
///         status: "BOND_STATUS_BONDED" | "BOND_STATUS_UNBONDING" | "BOND_STATUS_UNBONDED"; "" or
///         "BOND_STATUS_UNSPECIFIED" = all; anything else reverts.
///         DEVNET-ONLY mutators, callable by anyone:
///           setValidator(address validatorAddress, string operatorAddress, string consensusPubkey,
///                        bool jailed, uint8 status, uint256 tokens, string moniker)
///             adds or replaces a validator (delegatorShares = tokens * 1e18, commission 0.1e18,
///             minSelfDelegation 1); emits CreateValidator(validatorAddress, tokens) when it is new;
///           removeValidator(address validatorAddress).
contract StakingPrecompileStandIn {
    address[] private _addresses;
    mapping(address => uint256) private _position; // index + 1
    mapping(address => Validator) private _validators;

    event CreateValidator(address indexed validatorAddress, uint256 value);
    event EditValidator(address indexed validatorAddress, int256 commissionRate, int256 minSelfDelegation);
    event Delegate(address indexed delegatorAddress, address indexed validatorAddress, uint256 amount, uint256 newShares);
    event Unbond(address indexed delegatorAddress, address indexed validatorAddress, uint256 amount, uint256 completionTime);
    event Redelegate(
        address indexed delegatorAddress,
        address indexed validatorSrcAddress,
        address indexed validatorDstAddress,
        uint256 amount,
        uint256 completionTime
    );
    event CancelUnbondingDelegation(
        address indexed delegatorAddress, address indexed validatorAddress, uint256 amount, uint256 creationHeight
    );

    /// @notice DEVNET ONLY: add or replace a validator.
    function setValidator(
        address validatorAddress,
        string calldata operatorAddress,
        string calldata consensusPubkey,
        bool jailed,
        uint8 status,
        uint256 tokens,
        string calldata moniker
    ) external {
        bool isNew = _position[validatorAddress] == 0;
        if (isNew) {
            _addresses.push(validatorAddress);
            _position[validatorAddress] = _addresses.length;
        }
        Validator storage v = _validators[validatorAddress];
        v.operatorAddress = operatorAddress;
        v.consensusPubkey = consensusPubkey;
        v.jailed = jailed;
        v.status = BondStatus(status);
        v.tokens = tokens;
        v.delegatorShares = tokens * 1e18;
        v.description.moniker = moniker;
        v.commission = 0.1e18;
        v.minSelfDelegation = 1;
        if (isNew) emit CreateValidator(validatorAddress, tokens);
    }

    /// @notice DEVNET ONLY: remove a validator (no-op when unknown).
    function removeValidator(address validatorAddress) external {
        uint256 pos = _position[validatorAddress];
        if (pos == 0) return;
        uint256 last = _addresses.length;
        if (pos != last) {
            address moved = _addresses[last - 1];
            _addresses[pos - 1] = moved;
            _position[moved] = pos;
        }
        _addresses.pop();
        delete _position[validatorAddress];
        delete _validators[validatorAddress];
    }

    function validator(address validatorAddress) external view returns (Validator memory) {
        return _validators[validatorAddress];
    }

    function validators(string calldata status, PageRequest calldata pageRequest)
        external
        view
        returns (Validator[] memory validators_, PageResponse memory pageResponse)
    {
        (bool all, BondStatus wanted) = _parseStatus(status);
        uint256 n = _addresses.length;
        uint256 matches = 0;
        for (uint256 i = 0; i < n; i++) {
            if (all || _validators[_addresses[i]].status == wanted) matches++;
        }
        uint256 limit = pageRequest.limit == 0 ? 100 : pageRequest.limit;
        uint256 offset = pageRequest.offset;
        uint256 size = offset >= matches ? 0 : matches - offset;
        if (size > limit) size = limit;
        validators_ = new Validator[](size);
        uint256 seen = 0;
        uint256 filled = 0;
        for (uint256 k = 0; k < n && filled < size; k++) {
            uint256 i = pageRequest.reverse ? n - 1 - k : k;
            Validator storage v = _validators[_addresses[i]];
            if (!(all || v.status == wanted)) continue;
            if (seen++ < offset) continue;
            validators_[filled++] = v;
        }
        pageResponse.total = pageRequest.countTotal ? uint64(matches) : 0;
    }

    function _parseStatus(string calldata status) private pure returns (bool all, BondStatus wanted) {
        bytes32 h = keccak256(bytes(status));
        if (bytes(status).length == 0 || h == keccak256("BOND_STATUS_UNSPECIFIED")) return (true, BondStatus.Unspecified);
        if (h == keccak256("BOND_STATUS_BONDED")) return (false, BondStatus.Bonded);
        if (h == keccak256("BOND_STATUS_UNBONDING")) return (false, BondStatus.Unbonding);
        if (h == keccak256("BOND_STATUS_UNBONDED")) return (false, BondStatus.Unbonded);
        revert("invalid validator status");
    }
}
