using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CatEvening.SeiInjector.Live;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>The HTTP layer of the control API: authentication, routing, error replies. The cue book behind it is a recorder.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class ControlServerTests
{
    private const string Token = "s3cret-token-for-the-show";

    private sealed class RecordingInjector : IInjectorControl
    {
        public List<CueOrder> Fired { get; } = [];
        public List<string> Cancelled { get; } = [];

        public ControlResult Fire(CueOrder order)
        {
            if (order.Kind == "bogus") return new ControlResult(ControlOutcome.Rejected, "unknown kind 'bogus'");
            Fired.Add(order);
            return new ControlResult(ControlOutcome.Accepted, "accepted", 41 + Fired.Count);
        }

        public ControlResult Cancel(string cueId)
        {
            Cancelled.Add(cueId);
            return cueId == "missing" ? new ControlResult(ControlOutcome.NotFound, $"no cue '{cueId}'") : new ControlResult(ControlOutcome.Accepted, "cancelled");
        }

        public LiveStatus Status() => new(LinkState.Connected, LinkState.Reconnecting, 1, 2, 90000, 1.0, 25, 40, 12345, 3,
            new CueCounts(1, 2, 3, 4, 5), new AddedLatency().Snapshot());
    }

    private string _dir = "";
    private string _tokenFile = "";
    private RecordingInjector _injector = null!;
    private StringWriter _log = null!;
    private ControlServer _server = null!;
    private HttpClient _http = null!;

    [SetUp]
    public void StartServer()
    {
        _dir = Directory.CreateTempSubdirectory("catevening-control-").FullName;
        _tokenFile = Path.Combine(_dir, "token");
        SecretFile.Write(_tokenFile, Token + "\n");
        _injector = new RecordingInjector();
        _log = new StringWriter();
        _server = ControlServer.Start("127.0.0.1:0", _tokenFile, _injector, null, TextWriter.Synchronized(_log));
        _http = new HttpClient { BaseAddress = _server.BaseAddress };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    [TearDown]
    public void StopServer()
    {
        _http.Dispose();
        _server.Dispose();
        _log.Dispose();
        Directory.Delete(_dir, true);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> Body(HttpResponseMessage r) =>
        JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;

    [Test]
    public async Task PostCue_WithToken_ReachesTheInjector_AndAnswersItsSequenceNumber()
    {
        using var r = await _http.PostAsync("v1/cues", Json("""{"id":"red-1","duration":"30s","data":{"prize":1}}"""));
        var body = await Body(r);
        Assert.Multiple(() =>
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            Assert.That(body.GetProperty("seq").GetInt64(), Is.EqualTo(42));
            Assert.That(_injector.Fired.Single().Id, Is.EqualTo("red-1"));
        });
    }

    [TestCase(null)]
    [TestCase("Bearer wrong-token-wrong-token")]
    [TestCase("Basic czNjcmV0LXRva2VuLWZvci10aGUtc2hvdw==")]
    [TestCase("Bearer s3cret-token-for-the-sho")]
    public async Task RequestWithoutTheRightToken_Gets401_ChangesNothing_AndIsLogged(string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/cues") { Content = Json("""{"id":"sneaky"}""") };
        _http.DefaultRequestHeaders.Authorization = null;
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var r = await _http.SendAsync(request);
        Assert.Multiple(() =>
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(r.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
            Assert.That(_injector.Fired, Is.Empty);
            Assert.That(_log.ToString(), Does.Contain("401 for POST /v1/cues"));
        });
    }

    [Test]
    public async Task UnauthorizedRequest_IsAudited()
    {
        var auditPath = Path.Combine(_dir, "audit.jsonl");
        using (var audit = AuditLog.Open(auditPath))
        using (var server = ControlServer.Start("127.0.0.1:0", _tokenFile, _injector, audit, TextWriter.Null))
        using (var http = new HttpClient { BaseAddress = server.BaseAddress })
        using (var r = await http.GetAsync("v1/status"))
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(File.ReadAllText(auditPath), Does.Contain("\"event\":\"unauthorized_summary\"").And.Contain("\"refused\":1").And.Contain("/v1/status"),
            "the server writes the summary of refused requests when it stops");
    }

    [Test]
    public async Task MalformedJson_Gets400NamingThePosition()
    {
        using var r = await _http.PostAsync("v1/cues", Json("""{"id": "x", "kind": }"""));
        var body = await Body(r);
        Assert.Multiple(() =>
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(body.GetProperty("error").GetString(), Does.StartWith("malformed JSON at line 1, byte"));
            Assert.That(_injector.Fired, Is.Empty);
        });
    }

    [Test]
    public async Task OrderTheInjectorRefuses_Gets400WithItsReason()
    {
        using var r = await _http.PostAsync("v1/cues", Json("""{"id":"x","kind":"bogus"}"""));
        var body = await Body(r);
        Assert.Multiple(() =>
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(body.GetProperty("error").GetString(), Is.EqualTo("unknown kind 'bogus'"));
        });
    }

    [Test]
    public async Task OversizedBody_Gets400()
    {
        var huge = "{\"id\":\"x\",\"data\":\"" + new string('a', CueOrderJson.MaxBodyBytes) + "\"}";
        using var r = await _http.PostAsync("v1/cues", Json(huge));
        Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task DeleteCue_PassesTheUnescapedId()
    {
        using var ok = await _http.DeleteAsync("v1/cues/red%20packet");
        using var missing = await _http.DeleteAsync("v1/cues/missing");
        Assert.Multiple(() =>
        {
            Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(_injector.Cancelled, Is.EqualTo(new[] { "red packet", "missing" }));
        });
    }

    [Test]
    public async Task Status_ReportsLinksCountersAndLatency()
    {
        using var r = await _http.GetAsync("v1/status");
        var s = await Body(r);
        Assert.Multiple(() =>
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(s.GetProperty("input").GetString(), Is.EqualTo("connected"));
            Assert.That(s.GetProperty("output").GetString(), Is.EqualTo("reconnecting"));
            Assert.That(s.GetProperty("last_pts").GetInt64(), Is.EqualTo(90000));
            Assert.That(s.GetProperty("frames").GetInt64(), Is.EqualTo(25));
            Assert.That(s.GetProperty("cues").GetProperty("expired").GetInt32(), Is.EqualTo(4));
            Assert.That(s.GetProperty("added_latency").TryGetProperty("p99_ms", out _), Is.True);
        });
    }

    [TestCase("PUT", "v1/cues", HttpStatusCode.MethodNotAllowed)]
    [TestCase("GET", "v1/cues/x", HttpStatusCode.MethodNotAllowed)]
    [TestCase("GET", "v2/status", HttpStatusCode.NotFound)]
    public async Task WrongMethodOrPath_IsRefused(string method, string path, HttpStatusCode expected)
    {
        using var r = await _http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.That(r.StatusCode, Is.EqualTo(expected));
    }

    [TestCase("", "is empty")]
    [TestCase("\n0123456789abcdef0123\n", "its first line is empty")] // not "the file is empty" (a fresh tester)
    [TestCase("short", "at least 16")]
    [TestCase("has a space in it ok", "must not contain spaces")]
    public void TokenFile_Unusable_RefusesToStart(string content, string expected)
    {
        SecretFile.Write(_tokenFile, content);
        var e = Assert.Throws<TokenFileException>(() => ControlServer.Start("127.0.0.1:0", _tokenFile, _injector, null, TextWriter.Null));
        Assert.That(e!.Message, Does.Contain("--token-file").And.Contain(expected));
    }

    [TestCase(UnixFileMode.GroupRead, "640")]
    [TestCase(UnixFileMode.OtherRead, "604")]
    [TestCase(UnixFileMode.GroupRead | UnixFileMode.OtherRead, "644")]
    [TestCase(UnixFileMode.OtherWrite, "602")]
    public void TokenFile_ReachableByGroupOrOthers_RefusesToStart_NamingTheFix(UnixFileMode extra, string octal)
    {
        File.SetUnixFileMode(_tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | extra);
        var e = Assert.Throws<TokenFileException>(() => ControlServer.Start("127.0.0.1:0", _tokenFile, _injector, null, TextWriter.Null));
        Assert.That(e!.Message, Does.Contain($"mode {octal}").And.Contain($"chmod 600 {_tokenFile}"));
    }

    [Test]
    public void TokenFile_Missing_RefusesToStart()
    {
        var e = Assert.Throws<TokenFileException>(() => ControlServer.Start("127.0.0.1:0", Path.Combine(_dir, "nope"), _injector, null, TextWriter.Null));
        Assert.That(e!.Message, Does.Contain("does not start without a token"));
    }

    [TestCase("127.0.0.1", "expected HOST:PORT")]
    [TestCase("example.com:80", "is not an IP address")]
    [TestCase("127.0.0.1:99999", "expected HOST:PORT")]
    public void ListenAddress_Bad_IsRefusedNamingTheOption(string listen, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => ControlServer.Start(listen, _tokenFile, _injector, null, TextWriter.Null));
        Assert.That(e!.Message, Does.Contain("--control").And.Contain(expected));
    }

    // Issue 12's attack list: the HttpListener server never answered these and kept each connection open forever.
    [TestCase(new byte[] { 0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x22, 0x61, 0xFF, 0x62, 0x22, 0x7D }, "field 'id': not valid text", TestName = "PostCue_InvalidUtf8InTheId_Is400NamingTheField")]
    [TestCase(new byte[] { 0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x22, 0x5C, 0x75, 0x64, 0x38, 0x30, 0x30, 0x22, 0x7D }, "field 'id'", TestName = "PostCue_LoneSurrogateInTheId_Is400NamingTheField")]
    [TestCase(new byte[] { 0x7B, 0x22, 0x5C, 0x75, 0x64, 0x63, 0x30, 0x30, 0x22, 0x3A, 0x31, 0x7D }, "field name", TestName = "PostCue_LoneSurrogateInAFieldName_Is400")]
    public async Task PostCue_UndecodableText_Is400AndTheConnectionIsAnswered(byte[] body, string expected)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var r = await _http.PostAsync("v1/cues", content, timeout.Token);
        var error = (await Body(r)).GetProperty("error").GetString();
        Assert.Multiple(() =>
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(error, Does.Contain(expected));
            Assert.That(_injector.Fired, Is.Empty);
        });
    }
}
