using NUnit.Framework;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

namespace CatEvening.SeiReader.Tests.Security;

/// <summary>Fixed TEST-ONLY key pairs (published in docs/sei-format.md with the test vectors). Never use them on air.</summary>
internal static class TestKeys
{
    internal const string Key1PrivatePem = """
        CatEvening-Key-Id: 1
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWUhratZ+kM8zpafP
        vjzCY5usoWErSbF/UIcjNHH6eAqhRANCAAS0oFKZAvR8mAqQAoMSfE7fByn165bh
        DCwmDwi6DlOA/qzLG81Nz7GOfYWxBGJFO29RhIv/+x8fpR572RICng29
        -----END PRIVATE KEY-----
        """;

    internal const string Key2PrivatePem = """
        CatEvening-Key-Id: 2
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgxcPNx6wZtiP3g169
        8FxzVtj3VWKgD6o4ALL16E5FZxChRANCAAQUBfTYUAAv5GqPm1eiCbtUGqJY3jjV
        wGN0g8pJRE2oh+jKtDfpHe0XwZX1f5sBhH+DkNWbmqxEijFuOfFPPMLx
        -----END PRIVATE KEY-----
        """;

    internal const string StreamId = "show-1";

    /// <summary>2026-11-28T18:00:00Z in microseconds since the Unix epoch.</summary>
    internal const long Now = 1_795_888_800_000_000;

    internal static SigningKey Key1() => SigningKey.FromPem(Key1PrivatePem);

    internal static SigningKey Key2() => SigningKey.FromPem(Key2PrivatePem);

    internal static CueMessage Cue(long seq = 10, MessageKind kind = MessageKind.InteractionStart, string cueId = "poll-1",
        long offset = 0, long issuedAt = Now, string stream = StreamId, int appBytes = 32) =>
        new(kind, stream, seq, issuedAt, offset, cueId, windowTicks: 30 * 90000, spreadMicros: 5_000_000,
            Enumerable.Range(0, appBytes).Select(i => (byte)(i * 7)).ToArray());

    internal static HeartbeatMessage Heartbeat(long seq = 11, long issuedAt = Now, string stream = StreamId, string? server = "time.example.net:123") =>
        new(stream, seq, issuedAt, issuedAt - 1500, carrierPts: 8_589_934_000, clockUncertaintyMicros: 2500, server);
}
