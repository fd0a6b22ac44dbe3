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
    internal bool HasVersion2;

    /// <summary>ECDSA verifications this access unit has cost so far.</summary>
    public int SignatureVerifications { get; internal set; }

    /// <summary>CatEvening payloads of this access unit refused without any check because of the per-access-unit rules.</summary>
    public int Skipped { get; internal set; }
}
