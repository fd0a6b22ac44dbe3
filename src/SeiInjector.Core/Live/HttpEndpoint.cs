using System.Net;
using System.Net.Sockets;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// A small HTTP server over <see cref="HttpListener"/> (fully managed on Linux, Native AOT safe) that hands each request
/// to a handler on the thread pool, so a slow client never holds up another. Shared by the control API and the metrics.
/// </summary>
internal sealed class HttpEndpoint : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    private HttpEndpoint(string host, int port)
    {
        Host = host;
        Port = port;
    }

    public string Host { get; }

    public int Port { get; private set; }

    public Uri BaseAddress => new($"http://{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{Port}/");

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
        if (!IPAddress.TryParse(host, out _))
            throw new ArgumentException($"{option} {listen}: '{host}' is not an IP address (use 127.0.0.1, ::1 or 0.0.0.0)");
        return new HttpEndpoint(host, port);
    }

    /// <summary>Binds and starts serving; each request goes to <paramref name="handler"/>, which must write the response.</summary>
    public void Start(Func<HttpListenerContext, Task> handler)
    {
        if (Port == 0) Port = FreePort(Host);
        var prefixHost = Host is "0.0.0.0" or "::" ? "*" : BaseAddress.Host;
        _listener.Prefixes.Add($"http://{prefixHost}:{Port}/");
        _listener.Start();
        _loop = Task.Run(() => Serve(handler));
    }

    public void Dispose()
    {
        _stop.Cancel();
        if (_listener.IsListening) _listener.Stop();
        _listener.Close();
        try
        {
            _loop?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the listener's own error on close: nothing to report.
        }
        _stop.Dispose();
    }

    /// <summary>Reads the request body, or returns null when it is longer than <paramref name="limit"/>.</summary>
    public static async Task<byte[]?> ReadBody(HttpListenerRequest request, int limit)
    {
        if (request.ContentLength64 > limit) return null;
        using var body = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        while ((n = await request.InputStream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            if (body.Length + n > limit) return null;
            body.Write(buffer, 0, n);
        }
        return body.ToArray();
    }

    /// <summary>
    /// Answers are read by people (<c>sei-inject status</c>, curl) and by JSON parsers, never embedded in HTML: quotes
    /// and non-ASCII text stay readable instead of <c>\u0027</c>.
    /// </summary>
    public static JavaScriptEncoder JsonEncoder => JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    public static Task WriteJson(HttpListenerResponse response, int status, byte[] json) =>
        Write(response, status, "application/json; charset=utf-8", json);

    public static Task WriteError(HttpListenerResponse response, int status, string message)
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

    public static async Task Write(HttpListenerResponse response, int status, string contentType, byte[] body)
    {
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body).ConfigureAwait(false);
        response.Close();
    }

    private async Task Serve(Func<HttpListenerContext, Task> handler)
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => HandleOne(context, handler));
        }
    }

    private static async Task HandleOne(HttpListenerContext context, Func<HttpListenerContext, Task> handler)
    {
        try
        {
            await handler(context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away mid-response: nothing left to tell it.
            context.Response.Abort();
        }
    }

    private static int FreePort(string host)
    {
        using var probe = new TcpListener(IPAddress.Parse(host), 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
