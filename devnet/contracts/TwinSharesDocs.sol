// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SlotZeroOwnable} from "./SlotZeroOwnable.sol";
import {BondingCurve} from "./BondingCurve.sol";

/// @title TwinSharesDocs
/// @notice Devnet stand-in for the documented Twin.fun market (Base Sepolia era): non-upgradeable, one owner,
///         the BSC `Trade` event shape (bytes16 digitalTwinId), the friend.tech setters: owner-only, with
///         NO events and NO cap ("fee percentages are owner-settable"). Price divisor 1_600_000.
/// @dev    Storage: slot 0 owner, 1 protocolFeeDestination, 2 protocolFeePercent, 3 subjectFeePercent,
///         4 sharesBalance, 5 sharesSupply, 6 digitalTwinIdToOwner.
///         Devnet choices (the documented contract's full interface is not public):
///           - deployed with all fees 0 and no fee destination; the owner sets them with the setters;
///           - there is no create call: the first buyer of a twin (supply 0) becomes its owner, the
///             recipient of its subject fees, and gets the first share free;
///           - buyers pay at least price + fees, the excess is refunded; the last share cannot be sold.
contract TwinSharesDocs is SlotZeroOwnable {
    uint256 internal constant PRICE_DIVISOR = 1_600_000;

    address public protocolFeeDestination;
    uint256 public protocolFeePercent;
    uint256 public subjectFeePercent;

    mapping(bytes16 => mapping(address => uint256)) public sharesBalance;
    mapping(bytes16 => uint256) public sharesSupply;
    mapping(bytes16 => address) public digitalTwinIdToOwner;

    event Trade(
        address trader,
        bytes16 digitalTwinId,
        bool isBuy,
        uint256 shareAmount,
        uint256 ethAmount,
        uint256 protocolEthAmount,
        uint256 subjectEthAmount,
        uint256 supply
    );

    function setFeeDestination(address _feeDestination) public onlyOwner {
        protocolFeeDestination = _feeDestination;
    }

    function setProtocolFeePercent(uint256 _feePercent) public onlyOwner {
        protocolFeePercent = _feePercent;
    }

    function setSubjectFeePercent(uint256 _feePercent) public onlyOwner {
        subjectFeePercent = _feePercent;
    }

    function getPrice(uint256 supply, uint256 amount) public pure returns (uint256) {
        return BondingCurve.price(supply, amount, PRICE_DIVISOR);
    }

    function getBuyPrice(bytes16 digitalTwinId, uint256 amount) public view returns (uint256) {
        return getPrice(sharesSupply[digitalTwinId], amount);
    }

    function getSellPrice(bytes16 digitalTwinId, uint256 amount) public view returns (uint256) {
        return getPrice(sharesSupply[digitalTwinId] - amount, amount);
    }

    function getBuyPriceAfterFee(bytes16 digitalTwinId, uint256 amount) public view returns (uint256) {
        uint256 price = getBuyPrice(digitalTwinId, amount);
        return price + BondingCurve.fee(price, protocolFeePercent) + BondingCurve.fee(price, subjectFeePercent);
    }

    function getSellPriceAfterFee(bytes16 digitalTwinId, uint256 amount) public view returns (uint256) {
        uint256 price = getSellPrice(digitalTwinId, amount);
        return price - BondingCurve.fee(price, protocolFeePercent) - BondingCurve.fee(price, subjectFeePercent);
    }

    function buyShares(bytes16 digitalTwinId, uint256 amount) public payable {
        require(amount > 0, "Amount must be positive");
        uint256 supply = sharesSupply[digitalTwinId];
        if (supply == 0) digitalTwinIdToOwner[digitalTwinId] = msg.sender;
        uint256 price = getPrice(supply, amount);
        uint256 protocolFee = BondingCurve.fee(price, protocolFeePercent);
        uint256 subjectFee = BondingCurve.fee(price, subjectFeePercent);
        uint256 total = price + protocolFee + subjectFee;
        require(msg.value >= total, "Insufficient payment");
        sharesBalance[digitalTwinId][msg.sender] += amount;
        sharesSupply[digitalTwinId] = supply + amount;
        emit Trade(msg.sender, digitalTwinId, true, amount, price, protocolFee, subjectFee, supply + amount);
        _send(protocolFeeDestination, protocolFee);
        _send(digitalTwinIdToOwner[digitalTwinId], subjectFee);
        _send(msg.sender, msg.value - total);
    }

    function sellShares(bytes16 digitalTwinId, uint256 amount) public {
        require(amount > 0, "Amount must be positive");
        uint256 supply = sharesSupply[digitalTwinId];
        require(supply > amount, "Cannot sell the last share");
        require(sharesBalance[digitalTwinId][msg.sender] >= amount, "Insufficient shares");
        uint256 price = getPrice(supply - amount, amount);
        uint256 protocolFee = BondingCurve.fee(price, protocolFeePercent);
        uint256 subjectFee = BondingCurve.fee(price, subjectFeePercent);
        sharesBalance[digitalTwinId][msg.sender] -= amount;
        sharesSupply[digitalTwinId] = supply - amount;
        emit Trade(msg.sender, digitalTwinId, false, amount, price, protocolFee, subjectFee, supply - amount);
        _send(msg.sender, price - protocolFee - subjectFee);
        _send(protocolFeeDestination, protocolFee);
        _send(digitalTwinIdToOwner[digitalTwinId], subjectFee);
    }

    function _send(address to, uint256 amount) internal {
        if (amount == 0) return;
        (bool ok,) = to.call{value: amount}("");
        require(ok, "Transfer failed");
    }
}
