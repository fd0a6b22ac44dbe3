using System.Net.Http.Headers;
using System.Text;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// The client side of the control API, used by <c>sei-inject cue</c> and <c>sei-inject status</c> (and by tests):
/// plain HTTP with the bearer token, answers returned as the server wrote them.
/// </summary>
public sealed class ControlClient : IDisposable
{
    private readonly HttpClient _http;

    /// <summary>Creates a client for the API at <paramref name="control"/> (<c>http://HOST:PORT</c> or <c>HOST:PORT</c>).</summary>
    /// <exception cref="ArgumentException">The address is not an http URL or HOST:PORT.</exception>
    public ControlClient(string control, ReadOnlySpan<byte> token, TimeSpan? timeout = null)
    {
        var text = control.Contains("://", StringComparison.Ordinal) ? control : "http://" + control;
        if (!Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
            throw new ArgumentException($"--control {control}: expected http://HOST:PORT or HOST:PORT");
        _http = new HttpClient { BaseAddress = uri, Timeout = timeout ?? TimeSpan.FromSeconds(10) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Encoding.UTF8.GetString(token));
    }

    /// <summary>An answer: HTTP status and body (JSON).</summary>
    /// <param name="Status">HTTP status code.</param>
    /// <param name="Body">Response body.</param>
    public sealed record Answer(int Status, string Body)
    {
        /// <summary>True for a 2xx status.</summary>
        public bool IsSuccess => Status is >= 200 and < 300;
    }

    /// <summary><c>POST /v1/cues</c> with a body from <see cref="CueOrderJson.Write"/>.</summary>
    /// <exception cref="HttpRequestException">The API cannot be reached.</exception>
    public async Task<Answer> FireAsync(byte[] body, CancellationToken cancellation = default)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var r = await _http.PostAsync("v1/cues", content, cancellation).ConfigureAwait(false);
        return new Answer((int)r.StatusCode, await r.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false));
    }

    /// <summary><c>DELETE /v1/cues/{id}</c>.</summary>
    /// <exception cref="HttpRequestException">The API cannot be reached.</exception>
    public async Task<Answer> CancelAsync(string id, CancellationToken cancellation = default)
    {
        using var r = await _http.DeleteAsync("v1/cues/" + Uri.EscapeDataString(id), cancellation).ConfigureAwait(false);
        return new Answer((int)r.StatusCode, await r.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false));
    }

    /// <summary><c>GET /v1/status</c>.</summary>
    /// <exception cref="HttpRequestException">The API cannot be reached.</exception>
    public async Task<Answer> StatusAsync(CancellationToken cancellation = default)
    {
        using var r = await _http.GetAsync("v1/status", cancellation).ConfigureAwait(false);
        return new Answer((int)r.StatusCode, await r.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false));
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}
