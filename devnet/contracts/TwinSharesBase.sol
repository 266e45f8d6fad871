// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {ReentrancyGuardUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/ReentrancyGuardUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {BondingCurve} from "./BondingCurve.sol";

/// @title TwinSharesBase
/// @notice Shared body of the devnet stand-ins for the Twin.fun BSC market (DigitalTwinSharesV1 and the
///         uncapped implementation an owner can upgrade to). Both implementations expose the ABI of the
///         real DigitalTwinSharesV1 and keep the same storage layout; they differ only in `_checkFee`.
/// @dev    Storage (OZ v5 upgradeable bases use ERC-7201 namespaced storage, so our variables start at 0):
///           slot 0 protocolFeeDestination, 1 protocolFeePercent, 2 subjectFeePercent, 3 minSharesToCreate,
///           4 sharesBalance, 5 sharesSupply, 6 digitalTwinIdToOwner, 7 digitalTwinUrl, 8 digitalTwinExists.
///         The owner lives in OwnableUpgradeable's namespaced slot
///         0x9016d09d72d40fdae2fd8ceac6b6234c7706214fd39c1cd1e609a0528c199300.
///         Devnet choices (the real source is not public):
///           - initialize() sets protocolFeePercent = subjectFeePercent = 0.03e18 (3 %) and minSharesToCreate = 1,
///             silently (no setter events); the admin also receives CLAIM_OWNERSHIP_ROLE;
///           - a new twin has no owner until claimOwnership: its subject fees go to protocolFeeDestination;
///           - createDigitalTwin makes the caller buy minSharesToCreate shares (the first share is free);
///           - buyers pay at least price + fees, the excess is refunded; the last share cannot be sold;
///           - revert reasons are strings, so the ABI carries only the OpenZeppelin custom errors.
abstract contract TwinSharesBase is
    Initializable,
    OwnableUpgradeable,
    AccessControlUpgradeable,
    ReentrancyGuardUpgradeable,
    UUPSUpgradeable
{
    bytes32 public constant CLAIM_OWNERSHIP_ROLE = keccak256("CLAIM_OWNERSHIP_ROLE");

    uint256 internal constant PRICE_DIVISOR = 50_000_000;
    uint256 internal constant DEFAULT_PROTOCOL_FEE_PERCENT = 0.03 ether;
    uint256 internal constant DEFAULT_SUBJECT_FEE_PERCENT = 0.03 ether;
    uint256 internal constant DEFAULT_MIN_SHARES_TO_CREATE = 1;

    address public protocolFeeDestination;
    uint256 public protocolFeePercent;
    uint256 public subjectFeePercent;
    uint256 public minSharesToCreate;

    mapping(bytes16 => mapping(address => uint256)) public sharesBalance;
    mapping(bytes16 => uint256) public sharesSupply;
    mapping(bytes16 => address) public digitalTwinIdToOwner;
    mapping(bytes16 => string) public digitalTwinUrl;
    mapping(bytes16 => bool) public digitalTwinExists;

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
    event ProtocolFeePercentSet(uint256 protocolFeePercent);
    event SubjectFeePercentSet(uint256 subjectFeePercent);
    event ProtocolFeeDestinationSet(address protocolFeeDestination);
    event MinSharesToCreateSet(uint256 minSharesToCreate);
    event DigitalTwinOwnershipClaimed(bytes16 digitalTwinId, address newOwner);
    event DigitalTwinUrlSet(bytes16 digitalTwinId, string url);

    constructor() {
        _disableInitializers();
    }

    function initialize(address _initialOwner, address _initialAdmin, address _feeDestination) public initializer {
        __Ownable_init(_initialOwner);
        __AccessControl_init();
        __ReentrancyGuard_init();
        __UUPSUpgradeable_init();
        _grantRole(DEFAULT_ADMIN_ROLE, _initialAdmin);
        _grantRole(CLAIM_OWNERSHIP_ROLE, _initialAdmin);
        protocolFeeDestination = _feeDestination;
        protocolFeePercent = DEFAULT_PROTOCOL_FEE_PERCENT;
        subjectFeePercent = DEFAULT_SUBJECT_FEE_PERCENT;
        minSharesToCreate = DEFAULT_MIN_SHARES_TO_CREATE;
    }

    /// @dev Ceiling check applied by both fee-percent setters; the implementations decide.
    function _checkFee(uint256 feePercent) internal view virtual;

    function _authorizeUpgrade(address) internal virtual override onlyOwner {}

    // ----- owner setters -----

    function setFeeDestination(address _feeDestination) external onlyOwner {
        require(_feeDestination != address(0), "Invalid fee destination");
        protocolFeeDestination = _feeDestination;
        emit ProtocolFeeDestinationSet(_feeDestination);
    }

    function setProtocolFeePercent(uint256 _feePercent) external onlyOwner {
        _checkFee(_feePercent);
        protocolFeePercent = _feePercent;
        emit ProtocolFeePercentSet(_feePercent);
    }

    function setSubjectFeePercent(uint256 _feePercent) external onlyOwner {
        _checkFee(_feePercent);
        subjectFeePercent = _feePercent;
        emit SubjectFeePercentSet(_feePercent);
    }

    function setMinSharesToCreate(uint256 _minSharesToCreate) external onlyOwner {
        minSharesToCreate = _minSharesToCreate;
        emit MinSharesToCreateSet(_minSharesToCreate);
    }

    // ----- twins -----

    function createDigitalTwin(bytes16 digitalTwinId, string calldata url) external payable nonReentrant {
        require(digitalTwinId != bytes16(0), "Invalid digital twin id");
        require(!digitalTwinExists[digitalTwinId], "Digital twin exists");
        digitalTwinExists[digitalTwinId] = true;
        digitalTwinUrl[digitalTwinId] = url;
        emit DigitalTwinUrlSet(digitalTwinId, url);
        if (minSharesToCreate > 0) {
            _buy(digitalTwinId, minSharesToCreate);
        } else {
            _send(msg.sender, msg.value);
        }
    }

    function claimOwnership(bytes16 digitalTwinId, address newOwner) external onlyRole(CLAIM_OWNERSHIP_ROLE) {
        require(digitalTwinExists[digitalTwinId], "Digital twin does not exist");
        digitalTwinIdToOwner[digitalTwinId] = newOwner;
        emit DigitalTwinOwnershipClaimed(digitalTwinId, newOwner);
    }

    /// @notice Callable by the twin's owner, a CLAIM_OWNERSHIP_ROLE holder or the contract owner.
    function setDigitalTwinUrl(bytes16 digitalTwinId, string calldata url) external {
        require(digitalTwinExists[digitalTwinId], "Digital twin does not exist");
        require(
            msg.sender == digitalTwinIdToOwner[digitalTwinId] || msg.sender == owner()
                || hasRole(CLAIM_OWNERSHIP_ROLE, msg.sender),
            "Not allowed"
        );
        digitalTwinUrl[digitalTwinId] = url;
        emit DigitalTwinUrlSet(digitalTwinId, url);
    }

    // ----- trading -----

    function buyShares(bytes16 digitalTwinId, uint256 amount) external payable nonReentrant {
        require(digitalTwinExists[digitalTwinId], "Digital twin does not exist");
        require(amount > 0, "Amount must be positive");
        _buy(digitalTwinId, amount);
    }

    function sellShares(bytes16 digitalTwinId, uint256 amount, uint256 minPayout) external nonReentrant {
        require(amount > 0, "Amount must be positive");
        uint256 supply = sharesSupply[digitalTwinId];
        require(supply > amount, "Cannot sell the last share");
        require(sharesBalance[digitalTwinId][msg.sender] >= amount, "Insufficient shares");
        uint256 price = getPrice(supply - amount, amount);
        uint256 protocolFee = BondingCurve.fee(price, protocolFeePercent);
        uint256 subjectFee = BondingCurve.fee(price, subjectFeePercent);
        uint256 payout = price - protocolFee - subjectFee;
        require(payout >= minPayout, "Payout below minimum");
        sharesBalance[digitalTwinId][msg.sender] -= amount;
        sharesSupply[digitalTwinId] = supply - amount;
        emit Trade(msg.sender, digitalTwinId, false, amount, price, protocolFee, subjectFee, supply - amount);
        _send(msg.sender, payout);
        _send(protocolFeeDestination, protocolFee);
        _send(_subjectFeeRecipient(digitalTwinId), subjectFee);
    }

    function _buy(bytes16 digitalTwinId, uint256 amount) internal {
        uint256 supply = sharesSupply[digitalTwinId];
        uint256 price = getPrice(supply, amount);
        uint256 protocolFee = BondingCurve.fee(price, protocolFeePercent);
        uint256 subjectFee = BondingCurve.fee(price, subjectFeePercent);
        uint256 total = price + protocolFee + subjectFee;
        require(msg.value >= total, "Insufficient payment");
        sharesBalance[digitalTwinId][msg.sender] += amount;
        sharesSupply[digitalTwinId] = supply + amount;
        emit Trade(msg.sender, digitalTwinId, true, amount, price, protocolFee, subjectFee, supply + amount);
        _send(protocolFeeDestination, protocolFee);
        _send(_subjectFeeRecipient(digitalTwinId), subjectFee);
        _send(msg.sender, msg.value - total);
    }

    function _subjectFeeRecipient(bytes16 digitalTwinId) internal view returns (address) {
        address twinOwner = digitalTwinIdToOwner[digitalTwinId];
        return twinOwner == address(0) ? protocolFeeDestination : twinOwner;
    }

    function _send(address to, uint256 amount) internal {
        if (amount == 0) return;
        (bool ok,) = to.call{value: amount}("");
        require(ok, "Transfer failed");
    }

    // ----- prices -----

    function getPrice(uint256 supply, uint256 amount) public pure returns (uint256) {
        return BondingCurve.price(supply, amount, PRICE_DIVISOR);
    }

    function getBuyPrice(bytes16 digitalTwinId, uint256 amount) public view returns (uint256) {
        return getPrice(sharesSupply[digitalTwinId], amount);
    }

    function getSellPrice(bytes16 digitalTwinId, uint256 amount) public view returns (uint256) {
        return getPrice(sharesSupply[digitalTwinId] - amount, amount);
    }

    function getBuyPriceAfterFee(bytes16 digitalTwinId, uint256 amount) external view returns (uint256) {
        uint256 price = getBuyPrice(digitalTwinId, amount);
        return price + BondingCurve.fee(price, protocolFeePercent) + BondingCurve.fee(price, subjectFeePercent);
    }

    function getSellPriceAfterFee(bytes16 digitalTwinId, uint256 amount) external view returns (uint256) {
        uint256 price = getSellPrice(digitalTwinId, amount);
        return price - BondingCurve.fee(price, protocolFeePercent) - BondingCurve.fee(price, subjectFeePercent);
    }
}
