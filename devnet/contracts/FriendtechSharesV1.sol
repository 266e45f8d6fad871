// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SlotZeroOwnable} from "./SlotZeroOwnable.sol";
import {BondingCurve} from "./BondingCurve.sol";

/// @title FriendtechSharesV1
/// @notice Devnet stand-in for friend.tech's market on Base (the ancestor of Twin.fun), with its exact ABI:
///         shares keyed by subject address, owner-only setters with NO events and NO cap, divisor 16_000.
/// @dev    Storage: slot 0 owner, 1 protocolFeeDestination, 2 protocolFeePercent, 3 subjectFeePercent,
///         4 sharesBalance, 5 sharesSupply. Deployed with all fees 0 and no fee destination.
///         Only the subject can buy its own first share (free). Devnet choice: buyers' excess payment
///         is refunded. The last share cannot be sold.
contract FriendtechSharesV1 is SlotZeroOwnable {
    uint256 internal constant PRICE_DIVISOR = 16_000;

    address public protocolFeeDestination;
    uint256 public protocolFeePercent;
    uint256 public subjectFeePercent;

    mapping(address => mapping(address => uint256)) public sharesBalance;
    mapping(address => uint256) public sharesSupply;

    event Trade(
        address trader,
        address subject,
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

    function getBuyPrice(address sharesSubject, uint256 amount) public view returns (uint256) {
        return getPrice(sharesSupply[sharesSubject], amount);
    }

    function getSellPrice(address sharesSubject, uint256 amount) public view returns (uint256) {
        return getPrice(sharesSupply[sharesSubject] - amount, amount);
    }

    function getBuyPriceAfterFee(address sharesSubject, uint256 amount) public view returns (uint256) {
        uint256 price = getBuyPrice(sharesSubject, amount);
        return price + BondingCurve.fee(price, protocolFeePercent) + BondingCurve.fee(price, subjectFeePercent);
    }

    function getSellPriceAfterFee(address sharesSubject, uint256 amount) public view returns (uint256) {
        uint256 price = getSellPrice(sharesSubject, amount);
        return price - BondingCurve.fee(price, protocolFeePercent) - BondingCurve.fee(price, subjectFeePercent);
    }

    function buyShares(address sharesSubject, uint256 amount) public payable {
        require(amount > 0, "Amount must be positive");
        uint256 supply = sharesSupply[sharesSubject];
        require(supply > 0 || sharesSubject == msg.sender, "Only the subject can buy the first share");
        uint256 price = getPrice(supply, amount);
        uint256 protocolFee = BondingCurve.fee(price, protocolFeePercent);
        uint256 subjectFee = BondingCurve.fee(price, subjectFeePercent);
        uint256 total = price + protocolFee + subjectFee;
        require(msg.value >= total, "Insufficient payment");
        sharesBalance[sharesSubject][msg.sender] += amount;
        sharesSupply[sharesSubject] = supply + amount;
        emit Trade(msg.sender, sharesSubject, true, amount, price, protocolFee, subjectFee, supply + amount);
        _send(protocolFeeDestination, protocolFee);
        _send(sharesSubject, subjectFee);
        _send(msg.sender, msg.value - total);
    }

    function sellShares(address sharesSubject, uint256 amount) public payable {
        require(amount > 0, "Amount must be positive");
        uint256 supply = sharesSupply[sharesSubject];
        require(supply > amount, "Cannot sell the last share");
        require(sharesBalance[sharesSubject][msg.sender] >= amount, "Insufficient shares");
        uint256 price = getPrice(supply - amount, amount);
        uint256 protocolFee = BondingCurve.fee(price, protocolFeePercent);
        uint256 subjectFee = BondingCurve.fee(price, subjectFeePercent);
        sharesBalance[sharesSubject][msg.sender] -= amount;
        sharesSupply[sharesSubject] = supply - amount;
        emit Trade(msg.sender, sharesSubject, false, amount, price, protocolFee, subjectFee, supply - amount);
        _send(msg.sender, price - protocolFee - subjectFee + msg.value);
        _send(protocolFeeDestination, protocolFee);
        _send(sharesSubject, subjectFee);
    }

    function _send(address to, uint256 amount) internal {
        if (amount == 0) return;
        (bool ok,) = to.call{value: amount}("");
        require(ok, "Transfer failed");
    }
}
