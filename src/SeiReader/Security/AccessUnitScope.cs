namespace CatEvening.SeiReader.Security;

/// <summary>
/// What <see cref="MessageVerifier.Verify(System.ReadOnlySpan{byte}, long, ref AccessUnitScope)"/> remembers about
/// one access unit, so that the work one access unit can cause stays bounded (docs/sei-format.md, "Bounded reader
/// work"). Start each access unit with <c>default</c>; pass the same value, by reference, for each of its payloads.
/// </summary>
public struct AccessUnitScope
{
    internal int CatEveningPayloads;
    internal bool Closed;
    // CatEvening payloads that reached the signature step (docs/sei-format.md 6, step 7 on): the ones the access unit
    // holds. Those refused before it (unknown key id, high s, bad envelope) count only towards the payload maximum.
    internal int Held;

    /// <summary>
    /// True once nothing later in this access unit can be accepted: it held a payload of format version 2 or later
    /// that reached the signature check (one under an untrusted key id does not close it), a signature failed, the per-second budget ran out, or it reached <see cref="VerifierOptions.MaxPayloadsPerAccessUnit"/>
    /// payloads. Every later CatEvening payload would be refused unchecked, so a reader may stop walking the access
    /// unit here (<c>CueReader</c> does): what follows costs nothing.
    /// </summary>
    public readonly bool IsClosed => Closed;

    /// <summary>ECDSA verifications this access unit has cost so far.</summary>
    public int SignatureVerifications { get; internal set; }

    /// <summary>CatEvening payloads of this access unit refused without any check because of the per-access-unit rules.</summary>
    public int Skipped { get; internal set; }
}
