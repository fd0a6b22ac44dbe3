using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Live;
using CatEvening.SeiReader.Messages;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>
/// What the operator console reads and is served: the page itself (no token), the run of show (<c>GET /v1/cues</c>) and
/// the cue history (<c>GET /v1/history</c>), against a real <see cref="LiveSession"/> and <see cref="CueBook"/>.
/// </summary>
public class ConsoleApiTests
{
    private const string Token = "s3cret-token-for-the-show";
    private static readonly Rational Flv = new(1, 1000);

    private string _dir = "";
    private string _tokenFile = "";
    private LiveSession _session = null!;
    private ControlServer _server = null!;
    private HttpClient _http = null!;
    private HttpClient _stranger = null!;

    [SetUp]
    public void Start()
    {
        _dir = Directory.CreateTempSubdirectory("catevening-console-").FullName;
        var tokenFile = _tokenFile = Path.Combine(_dir, "token");
        SecretFile.Write(tokenFile, Token + "\n");
        var history = new CueHistory(null);
        _session = new LiveSession(new CueBook(new CueBookOptions { StreamId = "show" }, history), new PacketMonitor(), null, TextWriter.Null, history);
        _server = ControlServer.Start("127.0.0.1:0", tokenFile, _session, null, TextWriter.Null);
        _http = new HttpClient { BaseAddress = _server.BaseAddress };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        _stranger = new HttpClient { BaseAddress = _server.BaseAddress };
    }

    [TearDown]
    public void Stop()
    {
        _http.Dispose();
        _stranger.Dispose();
        _server.Dispose();
        _session.Dispose();
        Directory.Delete(_dir, true);
    }

    private static async Task<JsonElement> Body(HttpResponseMessage r) => JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;

    [TestCase("/", "text/html", "<title>CatEvening")]
    [TestCase("/console.js", "text/javascript", "sessionStorage")]
    [TestCase("/console.css", "text/css", "#confirm")]
    public async Task ConsolePage_IsServedWithoutAToken_AndCannotBeFramedOrCached(string path, string type, string content)
    {
        using var r = await _stranger.GetAsync(path);
        var text = await r.Content.ReadAsStringAsync();
        Assert.Multiple(() =>
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(r.Content.Headers.ContentType?.MediaType, Is.EqualTo(type));
            Assert.That(text, Does.Contain(content));
            Assert.That(r.Headers.GetValues("X-Frame-Options").Single(), Is.EqualTo("DENY"));
            Assert.That(r.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("default-src 'self'").And.Contain("frame-ancestors 'none'"));
            Assert.That(r.Headers.CacheControl?.NoStore, Is.True);
        });
    }

    [TestCase("GET", "v1/cues")]
    [TestCase("GET", "v1/history")]
    [TestCase("GET", "v1/events")]
    [TestCase("GET", "console.json")]
    [TestCase("POST", "")]
    public async Task DataRoutes_AndAnythingButThePage_NeedTheToken(string method, string path)
    {
        using var r = await _stranger.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task RunOfShow_ListsEveryCueWithItsStateAndTarget_AndFollowsACancel()
    {
        using (var fired = await _http.PostAsync("v1/cues", new StringContent("""{"id":"later","at":"10m","duration":"30s","spread":"2s"}""", Encoding.UTF8, "application/json")))
            Assert.That(fired.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        using (var wall = await _http.PostAsync("v1/cues", new StringContent("""{"id":"wall","kind":"custom","at":"2030-01-01T00:00:00Z"}""", Encoding.UTF8, "application/json")))
            Assert.That(wall.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var before = await Body(await _http.GetAsync("v1/cues"));
        using (var cancelled = await _http.DeleteAsync("v1/cues/later"))
            Assert.That(cancelled.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var after = await Body(await _http.GetAsync("v1/cues"));
        var later = before.GetProperty("cues")[0];
        Assert.Multiple(() =>
        {
            Assert.That(before.GetProperty("now").ValueKind, Is.EqualTo(JsonValueKind.Null), "no frame has passed yet");
            Assert.That(later.GetProperty("id").GetString(), Is.EqualTo("later"));
            Assert.That(later.GetProperty("kind").GetString(), Is.EqualTo("interaction-start"));
            Assert.That(later.GetProperty("state").GetString(), Is.EqualTo("pending"));
            Assert.That(later.GetProperty("at_offset").GetDouble(), Is.EqualTo(600));
            Assert.That(later.GetProperty("target_time").ValueKind, Is.EqualTo(JsonValueKind.Null), "placed only once the stream starts");
            Assert.That(later.GetProperty("duration").GetDouble(), Is.EqualTo(30));
            Assert.That(later.GetProperty("spread").GetDouble(), Is.EqualTo(2));
            Assert.That(before.GetProperty("cues")[1].GetProperty("at_wall").GetString(), Is.EqualTo("2030-01-01T00:00:00.000000Z"));
            Assert.That(after.GetProperty("cues")[0].GetProperty("state").GetString(), Is.EqualTo("cancelled"));
        });
    }

    [Test]
    public async Task Events_StreamStatusAndRunOfShow_AndEachHistoryEntryOnce_AsServerSentEvents()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using (await _http.PostAsync("v1/cues", Order("""{"id":"before","at":"10m"}"""))) { }
        using var stream = await _http.GetAsync("v1/events?after=0", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Multiple(() =>
        {
            Assert.That(stream.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(stream.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
            Assert.That(stream.Headers.CacheControl?.NoStore, Is.True);
        });
        using var events = new ServerSentEvents(await stream.Content.ReadAsStreamAsync(timeout.Token));
        var first = await events.Until(e => e.Name == "history", timeout.Token);
        using (var fired = await _http.PostAsync("v1/cues", Order("""{"id":"during","at":"20m"}"""), timeout.Token))
            Assert.That(fired.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var next = await events.Until(e => e.Name == "history", timeout.Token);
        var cues = await events.Until(e => e.Name == "cues" && e.Data.Contains("during", StringComparison.Ordinal), timeout.Token);
        var status = events.Seen.First(e => e.Name == "status");
        Assert.Multiple(() =>
        {
            Assert.That(Ids(first), Is.EqualTo(new[] { "before" }), "the history after ?after=0");
            Assert.That(Ids(next), Is.EqualTo(new[] { "during" }), "then only what is new");
            Assert.That(events.Seen.Count(e => e.Name == "history"), Is.EqualTo(2), "no history event without news");
            Assert.That(JsonDocument.Parse(cues.Data).RootElement.GetProperty("cues").EnumerateArray().Select(c => c.GetProperty("id").GetString()),
                Is.EqualTo(new[] { "before", "during" }));
            Assert.That(JsonDocument.Parse(status.Data).RootElement.GetProperty("cues").GetProperty("pending").GetInt32(), Is.GreaterThanOrEqualTo(1),
                "the status JSON, whole again although it spans several data lines");
        });

        static IEnumerable<string?> Ids(ServerSentEvents.Event e) =>
            JsonDocument.Parse(e.Data).RootElement.GetProperty("events").EnumerateArray().Select(h => h.GetProperty("id").GetString());
    }

    [Test]
    public async Task Events_BeyondTheStreamCap_Get503_APlaceFreesWhenAClientLeaves_AndStoppingEndsTheRest()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var server = ControlServer.Start("127.0.0.1:0", _tokenFile, _session, null, TextWriter.Null,
            new ControlServerOptions { MaxEventClients = 2, EventInterval = TimeSpan.FromMilliseconds(100) });
        var stopped = false;
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        try
        {
            var a = await http.GetAsync("v1/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            using var b = await http.GetAsync("v1/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            using (var c = await http.GetAsync("v1/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token))
            {
                Assert.Multiple(async () =>
                {
                    Assert.That(a.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                    Assert.That(b.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                    Assert.That(c.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
                    Assert.That(c.Headers.RetryAfter, Is.Not.Null);
                    Assert.That((await Body(c)).GetProperty("error").GetString(), Does.Contain("poll"));
                    Assert.That(server.EventClients, Is.EqualTo(2));
                });
            }

            a.Dispose();
            while (server.EventClients > 1) await Task.Delay(20, timeout.Token);
            using (var d = await http.GetAsync("v1/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token))
                Assert.That(d.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the place 'a' left");

            using var stillOpen = new ServerSentEvents(await b.Content.ReadAsStreamAsync(timeout.Token));
            await stillOpen.Until(e => e.Name == "status", timeout.Token);
            server.Dispose();
            stopped = true;
            await stillOpen.UntilEnd(timeout.Token);
            Assert.That(server.EventClients, Is.Zero);
        }
        finally
        {
            if (!stopped) server.Dispose();
        }
    }

    private static StringContent Order(string json) => new(json, Encoding.UTF8, "application/json");

    [Test]
    public async Task History_ListsChangesAfterTheNumberAsked_OldestFirst()
    {
        using (await _http.PostAsync("v1/cues", new StringContent("""{"id":"a","at":"1m"}""", Encoding.UTF8, "application/json"))) { }
        using (await _http.DeleteAsync("v1/cues/a")) { }
        var all = await Body(await _http.GetAsync("v1/history?after=0"));
        var rest = await Body(await _http.GetAsync("v1/history?after=1"));
        var none = await Body(await _http.GetAsync("v1/history?after=2"));
        using var bad = await _http.GetAsync("v1/history?after=-1");
        Assert.Multiple(async () =>
        {
            Assert.That(all.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event").GetString()), Is.EqualTo(new[] { "accepted", "cancelled" }));
            Assert.That(all.GetProperty("last").GetInt64(), Is.EqualTo(2));
            Assert.That(rest.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("n").GetInt64()), Is.EqualTo(new[] { 2L }));
            Assert.That(none.GetProperty("events").GetArrayLength(), Is.Zero);
            Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That((await Body(bad)).GetProperty("error").GetString(), Does.Contain("query 'after'"));
        });
    }

    [Test]
    public void CueHistory_PassesEveryChangeOn_AndKeepsDeliveriesWithTheirFrameAndPts()
    {
        var inner = new RecordingJournal();
        var history = new CueHistory(inner);
        var cue = new CueSnapshot(new CueRequest("a", MessageKind.InteractionStart, CueTime.Immediately, TimeSpan.FromSeconds(5), TimeSpan.Zero, ReadOnlyMemory<byte>.Empty), 7, CueState.Active, null, null, 1);
        history.Record(new CueJournalEntry(CueEvent.Accepted, 1_000_000, cue with { State = CueState.Pending, Transmissions = 0 }, null, null));
        history.Record(new CueJournalEntry(CueEvent.Delivered, 2_000_000, cue, new CarrierFrame(4000, 100, Flv, "ab"), null));
        history.Record(new CueJournalEntry(CueEvent.Ended, 3_000_000, cue with { State = CueState.Ended }, null, null, 9, "b-end"));
        for (var i = 0; i < CueHistory.Capacity; i++)
            history.Record(new CueJournalEntry(CueEvent.Repeated, 4_000_000, cue, new CarrierFrame(4040, 101, Flv, "ab"), null));
        var delivered = history.After(1, 1).Single();
        var early = new CueHistory(null);
        early.Record(new CueJournalEntry(CueEvent.Delivered, 2_000_000, cue, new CarrierFrame(4000, 100, Flv, "ab"), null));
        early.Record(new CueJournalEntry(CueEvent.Ended, 3_000_000, cue with { State = CueState.Ended }, null, null, 9, "b-end"));
        var entries = early.After(0);
        Assert.Multiple(() =>
        {
            Assert.That(inner.Count, Is.EqualTo(3 + CueHistory.Capacity), "every change reaches the audit log");
            Assert.That(history.After(0), Has.Count.EqualTo(CueHistory.Capacity), "the oldest are dropped");
            Assert.That(history.After(0)[^1].Number, Is.EqualTo(3 + CueHistory.Capacity));
            Assert.That(delivered.Event, Is.EqualTo("repeated"), "After(n, max) gives the newest");
            Assert.That(entries[0], Is.EqualTo(new CueHistoryEntry(1, DateTimeOffset.UnixEpoch.AddSeconds(2), "delivered", "a", 7, 100, 4000, 4.0, null)));
            Assert.That(entries[1].Detail, Is.EqualTo("closed by 'b-end'"));
        });
    }

    private sealed class RecordingJournal : ICueJournal
    {
        public int Count;

        public void Record(CueJournalEntry entry) => Count++;

        public void Record(StreamStateEntry entry) => Count++;
    }
}
