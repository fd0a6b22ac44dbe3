using System.Text;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace CatEvening.Http;

/// <summary>
/// The metrics endpoint of every CatEvening process that has one (<c>sei-inject run --metrics</c>,
/// <c>latency-probe --metrics</c>): prometheus-net registries, each private to its owner (never the process-wide
/// <see cref="Metrics.DefaultRegistry"/>), exported in the Prometheus text exposition format (version 0.0.4) at
/// <c>GET /metrics</c> (and <c>GET /</c>), everything else a 404 with a JSON error. Serve it with
/// <see cref="HttpHost.Start"/>.
/// </summary>
public static class PrometheusEndpoint
{
    /// <summary>The <c>Content-Type</c> of the exposition: Prometheus text format 0.0.4.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private static readonly byte[] NotFound = Encoding.UTF8.GetBytes("{\"error\":\"metrics are at GET /metrics\"}");

    /// <summary>
    /// A request handler that answers <c>GET /metrics</c> with <paramref name="registries"/> exported one after the
    /// other, in the order given (their metric names must not overlap).
    /// </summary>
    /// <exception cref="ArgumentException">No registry, or a null one.</exception>
    public static RequestDelegate Handler(params CollectorRegistry[] registries)
    {
        ArgumentNullException.ThrowIfNull(registries);
        if (registries.Length == 0 || Array.Exists(registries, r => r is null))
            throw new ArgumentException("at least one registry, none null", nameof(registries));
        var copy = (CollectorRegistry[])registries.Clone();
        return context => ServeAsync(context, copy);
    }

    private static async Task ServeAsync(HttpContext context, CollectorRegistry[] registries)
    {
        var response = context.Response;
        if (!HttpMethods.IsGet(context.Request.Method) || context.Request.Path.Value is not ("/metrics" or "/"))
        {
            response.StatusCode = 404;
            response.ContentType = "application/json; charset=utf-8";
            response.ContentLength = NotFound.Length;
            await response.Body.WriteAsync(NotFound, context.RequestAborted).ConfigureAwait(false);
            return;
        }
        // Every registry into one buffer first: the answer's length is known and a failing scrape is a 500, not half a page.
        using var body = new MemoryStream();
        foreach (var registry in registries)
            await registry.CollectAndExportAsTextAsync(body, context.RequestAborted).ConfigureAwait(false);
        response.StatusCode = 200;
        response.ContentType = ContentType;
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body.GetBuffer().AsMemory(0, (int)body.Length), context.RequestAborted).ConfigureAwait(false);
    }
}
