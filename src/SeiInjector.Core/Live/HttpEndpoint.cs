using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using CatEvening.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// One listen address of the injector (control API or metrics) served by <see cref="HttpHost"/> (Kestrel), plus the
/// small response helpers both servers share.
/// </summary>
internal sealed class HttpEndpoint : IDisposable
{
    private readonly IPEndPoint _listen;
    private HttpHost? _host;

    private HttpEndpoint(IPEndPoint listen) => _listen = listen;

    /// <summary>The address served on, as <c>http://host:port/</c>; the bound port once started.</summary>
    public Uri BaseAddress => _host?.BaseAddress ?? HttpHost.AddressOf(_listen);

    /// <summary>Parses <c>HOST:PORT</c>, <c>:PORT</c> (loopback) or <c>PORT</c> (loopback); port 0 picks a free one.</summary>
    /// <exception cref="ArgumentException">Not a host and port; the message names <paramref name="option"/>.</exception>
    public static HttpEndpoint Parse(string listen, string option)
    {
        var colon = listen.LastIndexOf(':');
        var host = colon < 0 ? "" : listen[..colon].Trim('[', ']');
        var portText = colon < 0 ? listen : listen[(colon + 1)..];
        if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port > 65535)
            throw new ArgumentException($"{option} {listen}: expected HOST:PORT (for example 127.0.0.1:8089)");
        if (host.Length == 0 || host == "localhost") host = "127.0.0.1";
        if (!IPAddress.TryParse(host, out var address))
            throw new ArgumentException($"{option} {listen}: '{host}' is not an IP address (use 127.0.0.1, ::1 or 0.0.0.0)");
        return new HttpEndpoint(new IPEndPoint(address, port));
    }

    /// <summary>Binds and starts serving; each request goes to <paramref name="handler"/>, which must write the response.</summary>
    /// <exception cref="IOException">The address cannot be bound; the message names it.</exception>
    public void Start(RequestDelegate handler, HttpHostLimits? limits = null) => _host = HttpHost.Start(_listen, handler, limits);

    public void Dispose() => _host?.Dispose();

    /// <summary>
    /// Reads the request body, or returns null when it is longer than <paramref name="limit"/> bytes (announced or sent).
    /// </summary>
    public static async Task<byte[]?> ReadBody(HttpRequest request, int limit)
    {
        if (request.ContentLength > limit) return null;
        using var body = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        while ((n = await request.Body.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            if (body.Length + n > limit) return null;
            body.Write(buffer, 0, n);
        }
        return body.ToArray();
    }

    /// <summary>
    /// The request's path as the client sent it (percent-escapes kept, query dropped), so a cue id's own escapes are
    /// decoded exactly once.
    /// </summary>
    public static string RawPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? raw : raw[..query];
    }

    /// <summary>
    /// Answers are read by people (<c>sei-inject status</c>, curl) and by JSON parsers, never embedded in HTML: quotes
    /// and non-ASCII text stay readable instead of <c>\u0027</c>.
    /// </summary>
    public static JavaScriptEncoder JsonEncoder => JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    public static Task WriteJson(HttpResponse response, int status, byte[] json) =>
        Write(response, status, "application/json; charset=utf-8", json);

    public static Task WriteError(HttpResponse response, int status, string message)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = HttpEndpoint.JsonEncoder }))
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        }
        return WriteJson(response, status, buffer.ToArray());
    }

    public static async Task Write(HttpResponse response, int status, string contentType, byte[] body)
    {
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body).ConfigureAwait(false);
    }
}
