using System.Buffers;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Threading.RateLimiting;
using CatEvening.Http;
using CatEvening.SeiInjector.Cues;
using Microsoft.AspNetCore.Http;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// The control API the director's desk talks to during the show (HTTP or HTTPS, loopback by default):
/// <list type="table">
/// <item><term><c>POST /v1/cues</c></term><description>fires a cue (body: <see cref="CueOrderJson"/>); 201 with its sequence number</description></item>
/// <item><term><c>DELETE /v1/cues/{id}</c></term><description>cancels a pending cue or ends an active one; 200</description></item>
/// <item><term><c>GET /v1/cues</c></term><description>the run of show: every cue with its state and target, and the stream time now (<see cref="ConsoleJson.Schedule"/>)</description></item>
/// <item><term><c>GET /v1/history?after=N</c></term><description>cue state changes numbered above N: accepted, delivered at frame/PTS, repeated, closed, expired (<see cref="ConsoleJson.History"/>)</description></item>
/// <item><term><c>GET /v1/status</c></term><description>links, last PTS, frames, cue counts, added latency p50/p99 (<see cref="LiveStatus.ToJson"/>)</description></item>
/// <item><term><c>GET /v1/events?after=N</c></term><description>the three above as server-sent events, a few times a second, for as long as the client listens (<see cref="LiveEvents"/>)</description></item>
/// <item><term><c>GET /</c></term><description>the operator console (a static page; it asks for the token and sends it with every API call)</description></item>
/// </list>
/// Every API request needs <c>Authorization: Bearer TOKEN</c>; a missing or wrong token gets 401 and changes nothing.
/// Refused requests are counted, not logged one by one (<see cref="RefusedRequests"/>), and each client address may
/// be refused <see cref="ControlServerOptions.RefusedBurst"/> times in a burst, then <see cref="ControlServerOptions.RefusedPerSecond"/>
/// times a second: beyond that it gets 429 without its token being looked at. Requests with the right token are never
/// rate limited. Bad requests get 400 with <c>{"error": "..."}</c> naming the field at fault.
/// </summary>
public sealed class ControlServer : IDisposable
{
    private readonly HttpEndpoint _endpoint;
    private readonly byte[] _token;
    private readonly IInjectorControl _injector;
    private readonly TextWriter _log;
    private readonly RefusedRequests _refused;
    private readonly LiveEvents _events;
    private readonly ControlServerOptions _options;
    private PartitionedRateLimiter<IPAddress>? _refusalLimiter;
    private bool _refusalLimiterMade;
    private object? _refusalLimiterLock;

    private ControlServer(HttpEndpoint endpoint, byte[] token, IInjectorControl injector, AuditLog? audit, TextWriter log, ControlServerOptions options)
    {
        _endpoint = endpoint;
        _token = token;
        _injector = injector;
        _log = log;
        _refused = new RefusedRequests(log, audit, options.Clock);
        _events = new LiveEvents(injector, options);
        _options = options;
    }

    // Made at the first refused request: the limiter runs a 100 ms replenishment timer, and its thread-pool wake-ups
    // cost more CPU than a live stream's packets when one injector runs per stream (benchmarks/RESULTS.md).
    private PartitionedRateLimiter<IPAddress> RefusalLimiter => LazyInitializer.EnsureInitialized(ref _refusalLimiter, ref _refusalLimiterMade, ref _refusalLimiterLock,
        () => PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ =>
            new TokenBucketRateLimiterOptions
            {
                TokenLimit = _options.RefusedBurst,
                TokensPerPeriod = _options.RefusedPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            })))!;

    /// <summary>The address the API listens on, as <c>http://host:port/</c> (<c>https</c> with a certificate).</summary>
    public Uri BaseAddress => _endpoint.BaseAddress;

    /// <summary>Starts the API on <paramref name="listen"/> (<c>HOST:PORT</c>) with the token read from <paramref name="tokenFile"/>.</summary>
    /// <exception cref="ArgumentException">The listen address is unusable; the message says why.</exception>
    /// <exception cref="TokenFileException">The token file is unusable (<see cref="ControlToken.Read"/>).</exception>
    /// <exception cref="IOException">The port cannot be bound; the message names the address.</exception>
    public static ControlServer Start(string listen, string tokenFile, IInjectorControl injector, AuditLog? audit, TextWriter log, ControlServerOptions? options = null)
    {
        options ??= new ControlServerOptions();
        var token = ControlToken.Read(tokenFile);
        var endpoint = HttpEndpoint.Parse(listen, "--control");
        var server = new ControlServer(endpoint, token, injector, audit, log, options);
        try
        {
            endpoint.Start(server.Handle, options.Limits, options.Certificate);
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }

    /// <summary>Live-update streams (<c>GET /v1/events</c>) open right now.</summary>
    public int EventClients => _events.Clients;

    /// <summary>Ends the live-update streams, stops serving, then writes the last summary of refused requests (before the audit log closes).</summary>
    public void Dispose()
    {
        _events.Dispose();
        _endpoint.Dispose();
        _refused.Dispose();
        _refusalLimiter?.Dispose();
    }

    private async Task Handle(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = HttpEndpoint.RawPath(context);
        if (request.Method == "GET" && ConsoleAssets.Find(path) is { } asset)
        {
            await ConsoleAssets.Serve(response, asset).ConfigureAwait(false);
            return;
        }
        if (!IsAuthorized(request.Headers.Authorization))
        {
            await Refuse(context, path).ConfigureAwait(false);
            return;
        }
        const string cuePrefix = "/v1/cues/";
        switch (request.Method, path)
        {
            case ("POST", "/v1/cues"):
                await Fire(request, response).ConfigureAwait(false);
                break;
            case ("GET", "/v1/cues"):
                await HttpEndpoint.WriteJson(response, 200, ConsoleJson.Schedule(_injector.Status(), _injector.Cues())).ConfigureAwait(false);
                break;
            case ("GET", "/v1/history"):
                if (await After(request, response).ConfigureAwait(false) is { } after) await HttpEndpoint.WriteJson(response, 200, ConsoleJson.History(_injector.History(after))).ConfigureAwait(false);
                break;
            case ("GET", "/v1/events"):
                if (await After(request, response).ConfigureAwait(false) is { } from) await _events.Serve(context, from).ConfigureAwait(false);
                break;
            case ("DELETE", _) when path.StartsWith(cuePrefix, StringComparison.Ordinal) && path.Length > cuePrefix.Length:
                var id = Uri.UnescapeDataString(path[cuePrefix.Length..]);
                await Reply(response, _injector.Cancel(id), id, 200).ConfigureAwait(false);
                break;
            case ("GET", "/v1/status"):
                await HttpEndpoint.WriteJson(response, 200, _injector.Status().ToJson()).ConfigureAwait(false);
                break;
            case (_, "/v1/cues" or "/v1/status" or "/v1/history" or "/v1/events"):
            case ("GET" or "POST", _) when path.StartsWith(cuePrefix, StringComparison.Ordinal):
                await HttpEndpoint.WriteError(response, 405, $"{request.Method} is not allowed on {path}").ConfigureAwait(false);
                break;
            default:
                await HttpEndpoint.WriteError(response, 404,
                    $"no such resource {RefusedRequests.Describe("", path).TrimStart()} (POST /v1/cues, GET /v1/cues, DELETE /v1/cues/ID, GET /v1/history, GET /v1/status, GET /v1/events; Prometheus metrics are served apart, with run --metrics HOST:PORT)").ConfigureAwait(false);
                break;
        }
    }

    // A refused request costs a token-bucket permit of its address; without one it gets 429 and nothing else is done.
    private async Task Refuse(HttpContext context, string path)
    {
        var remote = context.Connection.RemoteIpAddress ?? IPAddress.None;
        using var lease = RefusalLimiter.AttemptAcquire(remote);
        _refused.Refused(remote, context.Request.Method, path, limited: !lease.IsAcquired);
        var response = context.Response;
        if (!lease.IsAcquired)
        {
            response.Headers.RetryAfter = "1";
            await HttpEndpoint.WriteError(response, 429, "too many refused requests from this address").ConfigureAwait(false);
            return;
        }
        response.Headers.WWWAuthenticate = "Bearer";
        await HttpEndpoint.WriteError(response, 401, "missing or wrong bearer token").ConfigureAwait(false);
    }

    // The history number a client asks after (?after=N, 0 when absent), or null once a 400 naming the query went out.
    private static async Task<long?> After(HttpRequest request, HttpResponse response)
    {
        long after = 0;
        if (request.Query.TryGetValue("after", out var text)
            && !long.TryParse(text.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            await HttpEndpoint.WriteError(response, 400, "query 'after': expected a whole number (the last history number seen), e.g. ?after=0").ConfigureAwait(false);
            return null;
        }
        return after;
    }

    private async Task Fire(HttpRequest request, HttpResponse response)
    {
        var body = await HttpEndpoint.ReadBody(request, CueOrderJson.MaxBodyBytes).ConfigureAwait(false);
        if (body is null)
        {
            await HttpEndpoint.WriteError(response, 400, $"the body is over {CueOrderJson.MaxBodyBytes} bytes").ConfigureAwait(false);
            return;
        }
        if (!CueOrderJson.TryParse(body, out var order, out var error))
        {
            await HttpEndpoint.WriteError(response, 400, error).ConfigureAwait(false);
            return;
        }
        await Reply(response, _injector.Fire(order!), order!.Id, 201).ConfigureAwait(false);
    }

    private async Task Reply(HttpResponse response, ControlResult result, string id, int success)
    {
        var status = result.Outcome switch
        {
            ControlOutcome.Accepted => success,
            ControlOutcome.Rejected => 400,
            ControlOutcome.NotFound => 404,
            ControlOutcome.Unavailable => 503,
            _ => 409,
        };
        if (result.Outcome != ControlOutcome.Accepted)
        {
            await _log.WriteLineAsync($"control: {status} for cue '{id}': {result.Message}").ConfigureAwait(false);
            await HttpEndpoint.WriteError(response, status, result.Message).ConfigureAwait(false);
            return;
        }
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = HttpEndpoint.JsonEncoder }))
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            if (result.SequenceNumber is { } seq) w.WriteNumber("seq", seq);
            w.WriteString("message", result.Message);
            w.WriteEndObject();
        }
        await HttpEndpoint.WriteJson(response, status, buffer.WrittenSpan.ToArray()).ConfigureAwait(false);
    }

    private bool IsAuthorized(string? header)
    {
        const string scheme = "Bearer ";
        if (string.IsNullOrEmpty(header) || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        var presented = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(presented, _token);
    }
}
