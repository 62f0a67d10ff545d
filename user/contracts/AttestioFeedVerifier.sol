// SPDX-License-Identifier: GPL-2.0
pragma solidity ^0.8.24;

/// @title AttestioFeedVerifier
/// @notice Checks attestio-oracle report cores on chain (Documentation/
/// settlement.md, Documentation/protocol.md "Report core").  A core is
/// abi.encode(bytes32 feedId, uint64 round, int256 value, int8 decimals,
/// uint8 status, bytes32 configDigest, bytes32 evidenceRoot), 224 bytes;
/// each node signs SHA-256("attestio/v1/report-core" || 0x00 || core).
/// A core is accepted when t = f + 1 distinct signers of the current oracle
/// set signed it, its config digest is the set's, and its round (> 0) was
/// not accepted before for its feed (rounds in any order, each once).
/// Accepted cores are stored, so any number of contracts can read them.
contract AttestioFeedVerifier {
    /// One accepted round of a feed (one storage slot).
    struct Round {
        int64 value;      // meaningful only when status == 0
        int8 decimals;
        uint8 status;     // 0 settled, else the halt reason
        bool accepted;
    }

    /// A decoded core.
    struct Core {
        bytes32 feedId;
        uint64 round;
        int64 value;
        int8 decimals;
        uint8 status;
        bytes32 configDigest;
        bytes32 evidenceRoot;
    }

    uint256 public constant CORE_LEN = 224;
    uint256 public constant SIG_LEN = 65;
    uint256 public constant MAX_SIGNERS = 64;
    /// secp256k1 n / 2: a signature with a larger s is the malleated twin
    /// of a valid one and is rejected.
    uint256 private constant HALF_N =
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    address public immutable governance;
    /// Seconds between proposing a new oracle set and applying it.
    uint256 public immutable rotationDelay;

    // ----- current oracle set
    address[] private signers;
    /// signer -> 1-based index in the set that `setVersion` names; 0 = none.
    mapping(address => uint256) private signerIndex;
    uint8 public f;
    bytes32 public configDigest;
    uint64 public setVersion;

    // ----- pending rotation
    address[] private pendingSigners;
    uint8 public pendingF;
    bytes32 public pendingConfigDigest;
    uint256 public pendingEta;   // 0 = nothing pending

    mapping(bytes32 => uint64) public lastRound;
    mapping(bytes32 => mapping(uint64 => Round)) private rounds;

    event SetProposed(uint64 version, bytes32 configDigest, uint8 f, uint256 eta);
    event SetApplied(uint64 version, bytes32 configDigest, uint8 f, uint256 n);
    event SetCancelled(bytes32 configDigest);
    event ReportAccepted(bytes32 indexed feedId, uint64 indexed round,
                         int64 value, int8 decimals, uint8 status,
                         bytes32 evidenceRoot);

    error NotGovernance();
    error BadSet(string why);
    error NothingPending();
    error TooEarly(uint256 eta);
    error BadCoreLength(uint256 len);
    error BadCoreEncoding(string why);
    error BadSignaturesLength(uint256 len);
    error TooFewSignatures(uint256 got, uint256 need);
    error BadV(uint8 v);
    error HighS();
    error BadSignature();
    error UnknownSigner(address signer);
    error DuplicateSigner(address signer);
    error ConfigMismatch(bytes32 got, bytes32 want);
    error StaleRound(bytes32 feedId, uint64 round, uint64 last);
    error NotAccepted(bytes32 feedId, uint64 round);

    constructor(address governance_, uint256 rotationDelay_,
                address[] memory signers_, uint8 f_, bytes32 configDigest_) {
        governance = governance_;
        rotationDelay = rotationDelay_;
        _checkSet(signers_, f_, configDigest_);
        _apply(signers_, f_, configDigest_);
    }

    // ------------------------------------------------------- the set ---

    /// Signatures needed: t = f + 1.
    function threshold() public view returns (uint256) {
        return uint256(f) + 1;
    }

    function getSigners() external view returns (address[] memory) {
        return signers;
    }

    function getPendingSigners() external view returns (address[] memory) {
        return pendingSigners;
    }

    /// Governance proposes a new set; it applies after rotationDelay.
    /// A new proposal replaces a pending one (and restarts the delay).
    function proposeSet(address[] calldata signers_, uint8 f_,
                        bytes32 configDigest_) external {
        if (msg.sender != governance) revert NotGovernance();
        _checkSet(signers_, f_, configDigest_);
        pendingSigners = signers_;
        pendingF = f_;
        pendingConfigDigest = configDigest_;
        pendingEta = block.timestamp + rotationDelay;
        emit SetProposed(setVersion + 1, configDigest_, f_, pendingEta);
    }

    function cancelSet() external {
        if (msg.sender != governance) revert NotGovernance();
        if (pendingEta == 0) revert NothingPending();
        emit SetCancelled(pendingConfigDigest);
        delete pendingSigners;
        delete pendingEta;
        delete pendingF;
        delete pendingConfigDigest;
    }

    /// Anyone may apply a proposed set once its delay has passed.
    function applySet() external {
        uint256 eta = pendingEta;
        if (eta == 0) revert NothingPending();
        if (block.timestamp < eta) revert TooEarly(eta);
        address[] memory s = pendingSigners;
        _apply(s, pendingF, pendingConfigDigest);
        delete pendingSigners;
        delete pendingEta;
        delete pendingF;
        delete pendingConfigDigest;
    }

    function _checkSet(address[] memory s, uint8 f_, bytes32 digest)
        private pure
    {
        if (s.length == 0 || s.length > MAX_SIGNERS) revert BadSet("1..64 signers");
        if (s.length < 3 * uint256(f_) + 1) revert BadSet("n < 3f + 1");
        if (digest == bytes32(0)) revert BadSet("zero config digest");
        for (uint256 i = 0; i < s.length; i++) {
            if (s[i] == address(0)) revert BadSet("zero address");
            for (uint256 j = 0; j < i; j++)
                if (s[j] == s[i]) revert BadSet("repeated signer");
        }
    }

    function _apply(address[] memory s, uint8 f_, bytes32 digest) private {
        for (uint256 i = 0; i < signers.length; i++)
            delete signerIndex[signers[i]];
        delete signers;
        for (uint256 i = 0; i < s.length; i++) {
            signers.push(s[i]);
            signerIndex[s[i]] = i + 1;
        }
        f = f_;
        configDigest = digest;
        setVersion += 1;
        emit SetApplied(setVersion, digest, f_, s.length);
    }

    // ---------------------------------------------------- the reports ---

    /// SHA-256("attestio/v1/report-core" || 0x00 || core): what nodes sign.
    function digestOf(bytes calldata core) public pure returns (bytes32) {
        return sha256(abi.encodePacked("attestio/v1/report-core", bytes1(0x00), core));
    }

    /// Strict decode, as liboracle's oracle_core_decode: exactly 224
    /// bytes, zero / sign-extension padding, value within int64.
    function decodeCore(bytes calldata core) public pure returns (Core memory c) {
        if (core.length != CORE_LEN) revert BadCoreLength(core.length);
        bytes32 feedId = bytes32(core[0:32]);
        uint256 roundW = uint256(bytes32(core[32:64]));
        int256 valueW = int256(uint256(bytes32(core[64:96])));
        int256 decW = int256(uint256(bytes32(core[96:128])));
        uint256 statusW = uint256(bytes32(core[128:160]));
        if (roundW > type(uint64).max) revert BadCoreEncoding("round");
        if (valueW < type(int64).min || valueW > type(int64).max)
            revert BadCoreEncoding("value");
        if (decW < type(int8).min || decW > type(int8).max)
            revert BadCoreEncoding("decimals");
        if (statusW > type(uint8).max) revert BadCoreEncoding("status");
        c.feedId = feedId;
        c.round = uint64(roundW);
        c.value = int64(valueW);
        c.decimals = int8(decW);
        c.status = uint8(statusW);
        c.configDigest = bytes32(core[160:192]);
        c.evidenceRoot = bytes32(core[192:224]);
    }

    /// Check a core and its signatures (r || s || v, 65 bytes each,
    /// concatenated) and record the round.  Every signature given must be
    /// valid, low-s, from a distinct signer of the current set; at least t.
    function verify(bytes calldata core, bytes calldata sigs)
        external returns (Core memory c)
    {
        c = decodeCore(core);
        if (c.configDigest != configDigest)
            revert ConfigMismatch(c.configDigest, configDigest);
        // Each round once, in any order: a "later than the last round"
        // rule would let whoever submits first drop every earlier round
        // for good (submit round r+1 before r) and so choose which rounds
        // a consumer averaging over a window can ever see.
        uint64 last = lastRound[c.feedId];
        if (c.round == 0 || rounds[c.feedId][c.round].accepted)
            revert StaleRound(c.feedId, c.round, last);
        if (sigs.length % SIG_LEN != 0) revert BadSignaturesLength(sigs.length);
        uint256 n = sigs.length / SIG_LEN;
        uint256 t = threshold();
        if (n < t) revert TooFewSignatures(n, t);

        bytes32 digest = digestOf(core);
        uint256 seen;   // bitmap of signer indexes (<= 64 signers)
        for (uint256 i = 0; i < n; i++) {
            uint256 o = i * SIG_LEN;
            bytes32 r = bytes32(sigs[o:o + 32]);
            bytes32 s = bytes32(sigs[o + 32:o + 64]);
            uint8 v = uint8(sigs[o + 64]);
            if (v != 27 && v != 28) revert BadV(v);
            if (uint256(s) > HALF_N) revert HighS();
            address who = ecrecover(digest, v, r, s);
            if (who == address(0)) revert BadSignature();
            uint256 idx = signerIndex[who];
            if (idx == 0) revert UnknownSigner(who);
            uint256 bit = 1 << (idx - 1);
            if (seen & bit != 0) revert DuplicateSigner(who);
            seen |= bit;
        }

        if (c.round > last) lastRound[c.feedId] = c.round;
        rounds[c.feedId][c.round] = Round(c.value, c.decimals, c.status, true);
        emit ReportAccepted(c.feedId, c.round, c.value, c.decimals, c.status,
                            c.evidenceRoot);
    }

    /// A round accepted earlier (by anyone, for any consumer).
    function roundOf(bytes32 feedId, uint64 round)
        external view returns (Round memory r)
    {
        r = rounds[feedId][round];
        if (!r.accepted) revert NotAccepted(feedId, round);
    }
}
