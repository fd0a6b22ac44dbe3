using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CatEvening.Http;

/// <summary>
/// The one HTTP server every CatEvening process runs (the injector's control API and metrics, <c>latency-probe</c>'s
/// metrics exporter, the clock service's HTTP time): Kestrel, started with <see cref="WebApplication.CreateSlimBuilder()"/>
/// (Native AOT clean), bound to one address, with <see cref="HttpHostLimits"/> applied and ASP.NET Core's own logging off
/// (each server logs what its operator needs). Every request goes to one <see cref="RequestDelegate"/>, which routes.
/// </summary>
/// <remarks>
/// Replaces <c>System.Net.HttpListener</c>, whose managed Linux implementation can fail its own <c>Start()</c> with
/// <c>ArgumentNullException</c> when a client connects while it starts (dotnet/corefx#35191: a scraper or a test polling
/// the port made <c>sei-inject run</c> exit at start-up) and has no idle timeout or connection cap.
/// </remarks>
public sealed class HttpHost : IDisposable
{
    private readonly WebApplication _app;

    private HttpHost(WebApplication app, IPEndPoint local, bool tls)
    {
        _app = app;
        LocalEndPoint = local;
        IsHttps = tls;
    }

    /// <summary>The address and port actually bound (port 0 at start becomes the port the system picked).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The server's service container (tests read which memory pool Kestrel's transport was given).</summary>
    internal IServiceProvider Services => _app.Services;

    /// <summary>True when the server speaks HTTPS (started with a certificate).</summary>
    public bool IsHttps { get; }

    /// <summary>The server's address as <c>http://host:port/</c> or <c>https://host:port/</c> (IPv6 hosts in brackets; 0.0.0.0 and :: as given).</summary>
    public Uri BaseAddress => AddressOf(LocalEndPoint, IsHttps);

    /// <summary>An endpoint as a base address: <c>http://host:port/</c> (<c>https</c> with <paramref name="tls"/>), IPv6 hosts in brackets.</summary>
    public static Uri AddressOf(IPEndPoint endpoint, bool tls = false)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"{(tls ? "https" : "http")}://{Format(endpoint)}/"));
    }

    /// <summary>Binds <paramref name="listen"/> and starts serving; returns once the port accepts connections.</summary>
    /// <param name="listen">Address and port; port 0 picks a free one (read it back from <see cref="LocalEndPoint"/>).</param>
    /// <param name="handler">Called for every request; it must write the response.</param>
    /// <param name="limits">Connection and request limits; <c>null</c> for the defaults.</param>
    /// <param name="certificate">With a certificate (and its private key), the server speaks HTTPS only (TLS 1.2 or 1.3,
    /// the system's defaults); <c>null</c> for plain HTTP. See <see cref="PemCertificate.Load"/>.</param>
    /// <exception cref="IOException">The address cannot be bound (in use, not on this host, no permission); the message names it.</exception>
    public static HttpHost Start(IPEndPoint listen, RequestDelegate handler, HttpHostLimits? limits = null, X509Certificate2? certificate = null)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(handler);
        limits ??= new HttpHostLimits();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            var l = kestrel.Limits;
            l.MaxConcurrentConnections = limits.MaxConcurrentConnections;
            l.MaxConcurrentUpgradedConnections = limits.MaxConcurrentConnections;
            l.KeepAliveTimeout = limits.KeepAliveTimeout;
            l.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            l.MaxRequestBodySize = limits.MaxRequestBodySize;
            l.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
            l.MinRequestBodyDataRate = new MinDataRate(240, limits.MinDataRateGracePeriod);
            l.MinResponseDataRate = new MinDataRate(240, limits.MinDataRateGracePeriod);
            kestrel.Listen(listen, o =>
            {
                o.Protocols = HttpProtocols.Http1;
                if (certificate is not null) o.UseHttps(certificate);
            });
        });
        // Kestrel's own pool (PinnedBlockMemoryPool, .NET 10) queues an eviction pass to the thread pool every 10 s from
        // its once-a-second heartbeat, whether or not anyone is connected: in sei-inject that woke thread-pool threads
        // beside the packet path for nothing (a control API has a handful of clients). The shared array pool serves the
        // few buffers these servers need and trims itself only after a full garbage collection. Registered last, so
        // Kestrel's transport and connections take it (IMemoryPoolFactory<byte> is the public extension point; Kestrel
        // reads it from the container).
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>, SharedArrayMemoryPoolFactory>();
        var app = builder.Build();
        app.Run(handler);
        try
        {
            app.StartAsync().GetAwaiter().GetResult();
        }
        catch (IOException e)
        {
            ((IDisposable)app).Dispose();
            throw new IOException($"cannot listen on {Format(listen)}: {(e.InnerException ?? e).Message}", e);
        }
        catch (SocketException e)
        {
            ((IDisposable)app).Dispose();
            throw new IOException($"cannot listen on {Format(listen)}: {e.Message}", e);
        }
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var port = addresses is { Count: > 0 } ? new Uri(addresses.First()).Port : listen.Port;
        return new HttpHost(app, new IPEndPoint(listen.Address, port), certificate is not null);
    }

    /// <summary>Stops accepting, lets requests in progress finish for up to 2 s, and closes every connection.</summary>
    public void Dispose()
    {
        using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            try
            {
                _app.StopAsync(grace.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                // Requests still running after the grace period are cut off: the server is going away.
            }
        }
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private static string Format(IPEndPoint e) =>
        e.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{e.Address}]:{e.Port}" : $"{e.Address}:{e.Port}";

    /// <summary>Hands Kestrel <see cref="MemoryPool{T}.Shared"/> (array-pool backed; disposing it does nothing) for every pool it asks for.</summary>
    internal sealed class SharedArrayMemoryPoolFactory : IMemoryPoolFactory<byte>
    {
        private int _created;

        /// <summary>How many pools Kestrel asked for (its transport and connections ask as they start).</summary>
        public int Created => Volatile.Read(ref _created);

        public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
        {
            Interlocked.Increment(ref _created);
            return MemoryPool<byte>.Shared;
        }
    }
}
