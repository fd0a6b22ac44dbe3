using System.Buffers;
using Microsoft.AspNetCore.Http;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// The control API the director's desk talks to during the show (HTTP, loopback by default):
/// <list type="table">
/// <item><term><c>POST /v1/cues</c></term><description>fires a cue (body: <see cref="CueOrderJson"/>); 201 with its sequence number</description></item>
/// <item><term><c>DELETE /v1/cues/{id}</c></term><description>cancels a pending cue or ends an active one; 200</description></item>
/// <item><term><c>GET /v1/status</c></term><description>links, last PTS, frames, cue counts, added latency p50/p99 (<see cref="LiveStatus.ToJson"/>)</description></item>
/// </list>
/// Every request needs <c>Authorization: Bearer TOKEN</c>; a missing or wrong token gets 401, is logged (and audited) and
/// changes nothing. Bad requests get 400 with <c>{"error": "..."}</c> naming the field at fault.
/// </summary>
public sealed class ControlServer : IDisposable
{
    private readonly HttpEndpoint _endpoint;
    private readonly byte[] _token;
    private readonly IInjectorControl _injector;
    private readonly AuditLog? _audit;
    private readonly TextWriter _log;

    private ControlServer(HttpEndpoint endpoint, byte[] token, IInjectorControl injector, AuditLog? audit, TextWriter log)
    {
        _endpoint = endpoint;
        _token = token;
        _injector = injector;
        _audit = audit;
        _log = log;
    }

    /// <summary>The address the API listens on, as <c>http://host:port/</c>.</summary>
    public Uri BaseAddress => _endpoint.BaseAddress;

    /// <summary>Starts the API on <paramref name="listen"/> (<c>HOST:PORT</c>) with the token read from <paramref name="tokenFile"/>.</summary>
    /// <exception cref="ArgumentException">The listen address is unusable; the message says why.</exception>
    /// <exception cref="TokenFileException">The token file is unusable (<see cref="ControlToken.Read"/>).</exception>
    /// <exception cref="IOException">The port cannot be bound; the message names the address.</exception>
    public static ControlServer Start(string listen, string tokenFile, IInjectorControl injector, AuditLog? audit, TextWriter log)
    {
        var token = ControlToken.Read(tokenFile);
        var endpoint = HttpEndpoint.Parse(listen, "--control");
        var server = new ControlServer(endpoint, token, injector, audit, log);
        endpoint.Start(server.Handle);
        return server;
    }

    /// <inheritdoc/>
    public void Dispose() => _endpoint.Dispose();

    private async Task Handle(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = HttpEndpoint.RawPath(context);
        if (!IsAuthorized(request.Headers.Authorization))
        {
            var remote = $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}";
            await _log.WriteLineAsync($"control: 401 for {request.Method} {path} from {remote}: missing or wrong bearer token").ConfigureAwait(false);
            _audit?.Unauthorized(remote, request.Method, path);
            response.Headers.WWWAuthenticate = "Bearer";
            await HttpEndpoint.WriteError(response, 401, "missing or wrong bearer token").ConfigureAwait(false);
            return;
        }
        const string cuePrefix = "/v1/cues/";
        switch (request.Method, path)
        {
            case ("POST", "/v1/cues"):
                await Fire(request, response).ConfigureAwait(false);
                break;
            case ("DELETE", _) when path.StartsWith(cuePrefix, StringComparison.Ordinal) && path.Length > cuePrefix.Length:
                var id = Uri.UnescapeDataString(path[cuePrefix.Length..]);
                await Reply(response, _injector.Cancel(id), id, 200).ConfigureAwait(false);
                break;
            case ("GET", "/v1/status"):
                await HttpEndpoint.WriteJson(response, 200, _injector.Status().ToJson()).ConfigureAwait(false);
                break;
            case (_, "/v1/cues" or "/v1/status"):
            case ("GET" or "POST", _) when path.StartsWith(cuePrefix, StringComparison.Ordinal):
                await HttpEndpoint.WriteError(response, 405, $"{request.Method} is not allowed on {path}").ConfigureAwait(false);
                break;
            default:
                await HttpEndpoint.WriteError(response, 404, $"no such resource {path} (POST /v1/cues, DELETE /v1/cues/ID, GET /v1/status)").ConfigureAwait(false);
                break;
        }
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
