using System.Net;
using System.Net.Sockets;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;

namespace CatEvening.LatencyProbe.Tests.Cli;

/// <summary>
/// Every option and argument of latency-probe that takes an address: a malformed one is a bad command line (exit 2), one
/// that cannot be used (host that does not resolve, port that cannot be bound, nothing answering, URL that does not open)
/// exit 3; either way one line of ours naming the option, never a stack trace.
/// </summary>
[TestFixture]
public sealed class AddressErrorTests
{
    /// <summary>RFC 6761: names under .invalid never resolve.</summary>
    private const string Unresolvable = "studio-clock.invalid:5123";

    /// <summary>RFC 5737 TEST-NET-1: no interface of this machine has it, so nothing can be bound there.</summary>
    private const string NotLocal = "192.0.2.1:9464";

    private static string s_dir = "";
    private static string s_publicKey = "";
    private static string s_clip = "";

    [OneTimeSetUp]
    public void MakeKeyAndClip()
    {
        s_dir = Directory.CreateTempSubdirectory("probe-address-").FullName;
        using var key = SigningKey.Generate(3);
        s_publicKey = Path.Combine(s_dir, "show.pub");
        File.WriteAllText(s_publicKey, key.PublicKey.ExportPem());
        s_clip = TestMedia.Get(VideoProfile.H264Main, Container.Flv);
    }

    [OneTimeTearDown]
    public void RemoveDir() => Directory.Delete(s_dir, recursive: true);

    private static FFmpegCli.Result Probe(params string[] args) =>
        FFmpegCli.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "latency-probe.dll"), .. args], TimeSpan.FromSeconds(120));

    /// <summary>Placeholders filled in at run time: KEY (a valid public key file), CLIP (an H.264 FLV file), OUT (a file to write).</summary>
    private static string[] Fill(string[] args) => args.Select(a => a switch
    {
        "KEY" => s_publicKey,
        "CLIP" => s_clip,
        "OUT" => Path.Combine(s_dir, "out-" + Guid.NewGuid().ToString("N")[..8] + ".mkv"),
        _ => a,
    }).ToArray();

    private static IEnumerable<TestCaseData> Malformed()
    {
        TestCaseData Case(string option, params string[] args) => new TestCaseData(option, args).SetArgDisplayNames(string.Join(' ', args));
        yield return Case("clock query:", "clock", "query", "127.0.0.1");
        yield return Case("clock query:", "clock", "query", "studio-clock:port");
        yield return Case("--listen", "clock", "serve", "--listen", "127.0.0.1");
        yield return Case("--listen", "clock", "serve", "--listen", "127.0.0.1:65536");
        yield return Case("--clock", "sei", "CLIP", "--public-key", "KEY", "--clock", "studio-clock");
        yield return Case("--clock", "sei", "CLIP", "--public-key", "KEY", "--clock", "::1:5123");
        yield return Case("--metrics", "sei", "CLIP", "--public-key", "KEY", "--metrics", "localhost");
        yield return Case("--clock", "timecode", "read", "CLIP", "--clock", ":5123");
        yield return Case("--metrics", "timecode", "read", "CLIP", "--metrics", "127.0.0.1:0");
        yield return Case("--clock", "timecode", "render", "-o", "OUT", "--clock", "http://studio-clock:5123/");
        yield return Case("--metrics", "device", "/dev/null", "--metrics", "9464");
    }

    [TestCaseSource(nameof(Malformed))]
    public void MalformedAddress_IsABadCommandLine_OneLineNamingTheOption(string option, string[] args)
    {
        var run = Probe(Fill(args));
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(2), run.StdErr);
            AssertOneLineNaming(run, option);
        });
    }

    // The newcomer's `clock serve --listen 5123` was told "for example 5123:5123": a bare number is a port, so the
    // example must put a host before it.
    [Test]
    public void BarePortNumber_IsExplainedWithAHostBeforeIt()
    {
        var run = Probe("clock", "serve", "--listen", "5123");
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(2), run.StdErr);
            Assert.That(run.StdErr, Does.Contain("for example 0.0.0.0:5123 or 127.0.0.1:5123").And.Not.Contain("5123:5123"));
        });
    }

    private static IEnumerable<TestCaseData> Unusable()
    {
        TestCaseData Case(string option, params string[] args) => new TestCaseData(option, args).SetArgDisplayNames(string.Join(' ', args));
        yield return Case("clock query " + Unresolvable, "clock", "query", Unresolvable);
        yield return Case("--listen " + Unresolvable, "clock", "serve", "--listen", Unresolvable);
        yield return Case("--listen " + NotLocal, "clock", "serve", "--listen", NotLocal);
        yield return Case("--clock " + Unresolvable, "sei", "CLIP", "--public-key", "KEY", "--clock", Unresolvable);
        yield return Case("--clock " + Unresolvable, "timecode", "read", "CLIP", "--clock", Unresolvable);
        yield return Case("--clock " + Unresolvable, "timecode", "render", "-o", "OUT", "--clock", Unresolvable, "--count", "5");
        yield return Case("--metrics " + NotLocal, "sei", "CLIP", "--public-key", "KEY", "--metrics", NotLocal, "--quiet");
        yield return Case("--metrics " + NotLocal, "timecode", "read", "CLIP", "--metrics", NotLocal, "--quiet");
        yield return Case("--metrics " + Unresolvable, "device", "/dev/null", "--metrics", Unresolvable, "--quiet");
        yield return Case("sei rtmp://127.0.0.1:1/live/main", "sei", "rtmp://127.0.0.1:1/live/main", "--public-key", "KEY", "--quiet");
        yield return Case("timecode read rtmp://127.0.0.1:1/live/main", "timecode", "read", "rtmp://127.0.0.1:1/live/main", "--quiet");
        yield return Case("timecode render -o rtmp://127.0.0.1:1/live/main", "timecode", "render", "-o", "rtmp://127.0.0.1:1/live/main", "--count", "5");
    }

    [TestCaseSource(nameof(Unusable))]
    public void UnusableAddressOrUrl_IsUnreadableInput_OneLineNamingTheOption(string option, string[] args)
    {
        var run = Probe(Fill(args));
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(3), run.StdErr);
            AssertOneLineNaming(run, option);
        });
    }

    [Test]
    public void ClockQueryAndClockOption_WhereNoServiceAnswers_ExitWith3_SayingWhatToCheck()
    {
        // A bound UDP port that never answers: the requests are lost, as to a firewalled or stopped clock service.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var address = $"127.0.0.1:{((IPEndPoint)silent.LocalEndPoint!).Port}";
        var query = Probe("clock", "query", address, "--samples", "2");
        var option = Probe("timecode", "read", s_clip, "--clock", address, "--quiet");
        Assert.Multiple(() =>
        {
            Assert.That(query.ExitCode, Is.EqualTo(3), query.StdErr);
            AssertOneLineNaming(query, "clock query " + address);
            Assert.That(query.StdErr, Does.Contain("latency-probe clock serve"));
            Assert.That(option.ExitCode, Is.EqualTo(3), option.StdErr);
            AssertOneLineNaming(option, "--clock " + address);
        });
    }

    /// <summary>
    /// Exactly one line of ours (FFmpeg's own log lines about a URL may come before it), naming the option, and no .NET
    /// stack trace anywhere.
    /// </summary>
    private static void AssertOneLineNaming(FFmpegCli.Result run, string option)
    {
        var ours = run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("latency-probe: ", StringComparison.Ordinal)).ToArray();
        Assert.That(ours, Has.Length.EqualTo(1), run.StdErr);
        Assert.That(ours.FirstOrDefault() ?? "", Does.Contain(option), run.StdErr);
        Assert.That(run.StdErr, Does.Not.Contain("   at ").And.Not.Contain("Exception:"), "no stack trace");
    }
}
