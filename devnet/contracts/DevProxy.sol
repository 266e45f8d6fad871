// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @title DevProxy
/// @notice The ERC-1967 proxy the devnet Twin.fun market is deployed behind (the real BSC market is a
///         UUPS proxy). Plain OpenZeppelin ERC1967Proxy: constructor(implementation, initializer call data).
contract DevProxy is ERC1967Proxy {
    constructor(address implementation, bytes memory data) payable ERC1967Proxy(implementation, data) {}
}
