// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title BondingCurve
/// @notice The quadratic "shares" bonding curve shared by every market variant on the devnet
///         (Twin.fun BSC, the documented Twin.fun variant and friend.tech). Only the divisor differs:
///         50_000_000 (Twin.fun BSC), 1_600_000 (Twin.fun docs), 16_000 (friend.tech).
/// @dev    sum(s) = (s-1)*s*(2*(s-1)+1)/6 is the sum of squares 0^2 + ... + (s-1)^2;
///         price(supply, amount) = (sum(supply+amount) - sum(supply)) * 1 ether / divisor.
///         The first share (supply 0 -> 1) costs nothing.
library BondingCurve {
    function sumOfSquares(uint256 s) internal pure returns (uint256) {
        if (s == 0) return 0;
        return ((s - 1) * s * (2 * (s - 1) + 1)) / 6;
    }

    function price(uint256 supply, uint256 amount, uint256 divisor) internal pure returns (uint256) {
        return ((sumOfSquares(supply + amount) - sumOfSquares(supply)) * 1 ether) / divisor;
    }

    /// @notice Fee on a curve price, the percentage in 1e18 precision (1e18 = 100 %).
    function fee(uint256 ethAmount, uint256 feePercent) internal pure returns (uint256) {
        return (ethAmount * feePercent) / 1 ether;
    }
}
