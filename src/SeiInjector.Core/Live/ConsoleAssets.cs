using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// The operator console's static files (<c>Live/Console/</c>, embedded in this assembly; no build step): served at
/// <c>GET /</c>, <c>/console.css</c> and <c>/console.js</c> without a token, since they hold no data. The page asks for
/// the token and sends it with each API call. Every answer forbids framing (a fire button must not be clickjacked),
/// inline scripts and other origins (<c>Content-Security-Policy</c>), and caching.
/// </summary>
internal static class ConsoleAssets
{
    /// <summary>One file: its content type and bytes.</summary>
    internal sealed record Asset(string ContentType, byte[] Content);

    private static readonly FrozenDictionary<string, Asset> Assets = new Dictionary<string, Asset>
    {
        ["/"] = Load("index.html", "text/html; charset=utf-8"),
        ["/console.css"] = Load("console.css", "text/css; charset=utf-8"),
        ["/console.js"] = Load("console.js", "text/javascript; charset=utf-8"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The asset at <paramref name="path"/>, or null.</summary>
    public static Asset? Find(string path) => Assets.GetValueOrDefault(path);

    public static Task Serve(HttpResponse response, Asset asset)
    {
        var h = response.Headers;
        h.CacheControl = "no-store";
        h.ContentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h["Referrer-Policy"] = "no-referrer";
        return HttpEndpoint.Write(response, 200, asset.ContentType, asset.Content);
    }

    private static Asset Load(string name, string contentType)
    {
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream("console/" + name)
            ?? throw new InvalidOperationException($"the console file {name} is not embedded in {typeof(ConsoleAssets).Assembly.GetName().Name}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return new Asset(contentType, copy.ToArray());
    }
}
