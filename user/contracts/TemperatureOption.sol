// SPDX-License-Identifier: GPL-2.0
pragma solidity ^0.8.24;

import {AttestioFeedVerifier} from "./AttestioFeedVerifier.sol";

/// @title TemperatureOption
/// @notice A capped call on the mean temperature of a feed over a window of
/// oracle rounds (Documentation/settlement.md).  The buyer deposits a
/// premium, the seller the collateral; both go into one pool.  At expiry:
///
///   mean   = (sum of the settled rounds' values) / (their count),
///            integer division truncating toward zero
///   buyer  = mean > strike ? min((mean - strike) * notional, pool) : 0
///   seller = pool - buyer
///
/// Only rounds with status 0 give values; a halted round is counted as
/// halted and never used.  Written fallback: with fewer than minRounds
/// settled rounds at expiry, the window is extended once (extensionRounds
/// more rounds, extensionTime more seconds); still too few at the new
/// expiry, both parties get their deposits back.  If the pool never fills by
/// depositDeadline, whoever deposited gets it back.  Every path ends in
/// Settled or Refunded, and payments are pulled (withdraw), so a party that
/// cannot receive ether never blocks the other.  `attestio settle`
/// (user/oracle/settle.c) computes the same numbers off chain.
contract TemperatureOption {
    enum State { Funding, Active, Extended, Settled, Refunded }

    struct Terms {
        bytes32 feedId;
        int8 decimals;          // every report must carry these decimals
        uint64 firstRound;
        uint64 lastRound;
        uint64 extensionRounds;
        uint64 minRounds;       // settled rounds needed to settle
        int64 strike;           // in feed units (value at decimals)
        uint96 notional;        // wei per feed unit above the strike
        address buyer;
        address seller;
        uint96 buyerDeposit;
        uint96 sellerDeposit;
        uint64 depositDeadline; // unix seconds
        uint64 expiry;
        uint64 extensionTime;
    }

    AttestioFeedVerifier public immutable verifier;
    Terms private terms;
    State public state;

    bool public buyerPaid;
    bool public sellerPaid;
    uint64 public windowEnd;        // last round that counts (grows once)
    uint64 public deadline;         // current expiry
    int256 public sum;              // of settled values in the window
    uint64 public settledCount;
    uint64 public haltedCount;
    mapping(uint64 => bool) public recorded;
    mapping(address => uint256) public credit;
    int256 public finalMean;
    uint256 public buyerPayout;
    uint256 public sellerPayout;

    event Deposited(address who, uint256 amount);
    event RoundRecorded(uint64 round, int64 value, uint8 status);
    event Extended(uint64 windowEnd, uint64 deadline);
    event Settled(int256 mean, uint64 rounds, uint256 buyer, uint256 seller);
    event Refunded(uint256 buyer, uint256 seller);
    event Withdrawn(address who, uint256 amount);

    error BadTerms(string why);
    error WrongState(State state);
    error NotParty(address who);
    error AlreadyDeposited(address who);
    error WrongAmount(uint256 got, uint256 want);
    error DepositClosed();
    error WrongFeed(bytes32 feedId);
    error WrongDecimals(int8 got, int8 want);
    error OutsideWindow(uint64 round, uint64 first, uint64 last);
    error AlreadyRecorded(uint64 round);
    error NotYet(uint256 when);
    error NothingToWithdraw();
    error TransferFailed();

    constructor(AttestioFeedVerifier verifier_, Terms memory t) {
        if (address(verifier_) == address(0)) revert BadTerms("verifier");
        if (t.buyer == address(0) || t.seller == address(0) || t.buyer == t.seller)
            revert BadTerms("parties");
        if (t.firstRound == 0 || t.lastRound < t.firstRound) revert BadTerms("window");
        if (t.minRounds == 0 || t.minRounds > t.lastRound - t.firstRound + 1)
            revert BadTerms("minRounds");
        if (uint256(t.lastRound) + t.extensionRounds > type(uint64).max)
            revert BadTerms("extensionRounds");
        if (t.notional == 0 || t.buyerDeposit == 0 || t.sellerDeposit == 0)
            revert BadTerms("amounts");
        if (t.depositDeadline > t.expiry) revert BadTerms("depositDeadline after expiry");
        if (uint256(t.expiry) + t.extensionTime > type(uint64).max)
            revert BadTerms("extensionTime");
        // extension rounds need time to arrive before the next settle()
        if (t.extensionRounds != 0 && t.extensionTime == 0)
            revert BadTerms("extensionRounds without extensionTime");
        verifier = verifier_;
        terms = t;
        windowEnd = t.lastRound;
        deadline = t.expiry;
    }

    function getTerms() external view returns (Terms memory) {
        return terms;
    }

    /// Everything that decides what can happen next, in one call.
    function progress() external view returns (State state_, bool buyerPaid_,
        bool sellerPaid_, uint64 settled_, uint64 halted_, uint64 windowEnd_,
        uint64 deadline_)
    {
        return (state, buyerPaid, sellerPaid, settledCount, haltedCount,
                windowEnd, deadline);
    }

    function pool() public view returns (uint256) {
        return uint256(terms.buyerDeposit) + uint256(terms.sellerDeposit);
    }

    /// The buyer's share of the pool for a given mean (pure arithmetic).
    function payoutFor(int256 mean) public view returns (uint256) {
        int256 strike = terms.strike;
        if (mean <= strike) return 0;
        uint256 p = pool();
        uint256 amount = uint256(mean - strike) * uint256(terms.notional);
        return amount < p ? amount : p;
    }

    // ---------------------------------------------------------- funding ---

    function deposit() external payable {
        if (state != State.Funding) revert WrongState(state);
        if (block.timestamp >= terms.depositDeadline) revert DepositClosed();
        uint256 want;
        if (msg.sender == terms.buyer) {
            if (buyerPaid) revert AlreadyDeposited(msg.sender);
            want = terms.buyerDeposit;
            buyerPaid = true;
        } else if (msg.sender == terms.seller) {
            if (sellerPaid) revert AlreadyDeposited(msg.sender);
            want = terms.sellerDeposit;
            sellerPaid = true;
        } else {
            revert NotParty(msg.sender);
        }
        if (msg.value != want) revert WrongAmount(msg.value, want);
        emit Deposited(msg.sender, msg.value);
        if (buyerPaid && sellerPaid) state = State.Active;
    }

    // ---------------------------------------------------------- reports ---

    /// Verify a report core with its signatures and record its round.
    function submit(bytes calldata core, bytes calldata sigs) external {
        AttestioFeedVerifier.Core memory c = verifier.verify(core, sigs);
        if (c.feedId != terms.feedId) revert WrongFeed(c.feedId);
        _record(c.round, c.value, c.decimals, c.status);
    }

    /// Record a round that the verifier accepted earlier (submitted
    /// directly to it, or for another contract).
    function record(uint64 round) external {
        AttestioFeedVerifier.Round memory r = verifier.roundOf(terms.feedId, round);
        _record(round, r.value, r.decimals, r.status);
    }

    function _record(uint64 round, int64 value, int8 decimals, uint8 status) private {
        if (state == State.Settled || state == State.Refunded) revert WrongState(state);
        if (round < terms.firstRound || round > windowEnd)
            revert OutsideWindow(round, terms.firstRound, windowEnd);
        if (recorded[round]) revert AlreadyRecorded(round);
        if (decimals != terms.decimals) revert WrongDecimals(decimals, terms.decimals);
        recorded[round] = true;
        if (status == 0) {
            sum += value;
            settledCount += 1;
        } else {
            haltedCount += 1;   // a halted round is never a value
        }
        emit RoundRecorded(round, value, status);
    }

    // ------------------------------------------------------- settlement ---

    /// Anyone, once due: settles, extends once, or refunds.
    function settle() external {
        State s = state;
        if (s == State.Funding) {
            if (block.timestamp < terms.depositDeadline) revert NotYet(terms.depositDeadline);
            _refund();
            return;
        }
        if (s != State.Active && s != State.Extended) revert WrongState(s);
        if (block.timestamp < deadline) revert NotYet(deadline);
        if (settledCount >= terms.minRounds) {
            int256 mean = sum / int256(uint256(settledCount));
            uint256 b = payoutFor(mean);
            uint256 p = pool();
            finalMean = mean;
            buyerPayout = b;
            sellerPayout = p - b;
            credit[terms.buyer] += b;
            credit[terms.seller] += p - b;
            state = State.Settled;
            emit Settled(mean, settledCount, b, p - b);
        } else if (s == State.Active &&
                   (terms.extensionRounds != 0 || terms.extensionTime != 0)) {
            windowEnd = terms.lastRound + terms.extensionRounds;
            deadline = terms.expiry + terms.extensionTime;
            state = State.Extended;
            emit Extended(windowEnd, deadline);
        } else {
            _refund();
        }
    }

    function _refund() private {
        uint256 b = buyerPaid ? terms.buyerDeposit : 0;
        uint256 s = sellerPaid ? terms.sellerDeposit : 0;
        credit[terms.buyer] += b;
        credit[terms.seller] += s;
        buyerPayout = b;
        sellerPayout = s;
        state = State.Refunded;
        emit Refunded(b, s);
    }

    function withdraw() external {
        uint256 amount = credit[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        credit[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }
}
