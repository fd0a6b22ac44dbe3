using System.Net;
using System.Net.Sockets;
using CatEvening.Http;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>
/// The one HTTP server of every CatEvening process (Kestrel behind <see cref="HttpHost"/>): binding, port 0, bind
/// errors, the race HttpListener lost, and the limits that keep silent clients from holding connections.
/// </summary>
public class HttpHostTests
{
    private static Task Hello(HttpContext context) => context.Response.WriteAsync("hello");

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Test]
    public async Task PortZero_BindsAFreePort_AndAnswers()
    {
        using var host = HttpHost.Start(new IPEndPoint(IPAddress.Loopback, 0), Hello);
        using var http = new HttpClient { BaseAddress = host.BaseAddress };
        Assert.Multiple(async () =>
        {
            Assert.That(host.LocalEndPoint.Port, Is.Not.Zero);
            Assert.That(host.BaseAddress.ToString(), Is.EqualTo($"http://127.0.0.1:{host.LocalEndPoint.Port}/"));
            Assert.That(await http.GetStringAsync("/anything"), Is.EqualTo("hello"));
        });
    }

    /// <summary>
    /// Kestrel's own pool (.NET 10) queues an eviction pass to the thread pool every 10 s from its heartbeat, connected or
    /// not, which woke thread-pool threads beside sei-inject's packet path (RESULTS.md, twelfth pass): the server's
    /// transport must take the shared array pool instead, and still carry bodies far larger than one 4 KiB block.
    /// </summary>
    [Test]
    public async Task Transport_UsesTheSharedArrayPool_AndCarriesLargeBodies()
    {
        static async Task Echo(HttpContext context)
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            Array.Reverse(bytes);
            await context.Response.Body.WriteAsync(bytes);
        }
        using var host = HttpHost.Start(new IPEndPoint(IPAddress.Loopback, 0), Echo, new HttpHostLimits { MaxRequestBodySize = 4 << 20 });
        var factory = host.Services.GetRequiredService<IMemoryPoolFactory<byte>>();
        Assert.That(factory, Is.InstanceOf<HttpHost.SharedArrayMemoryPoolFactory>());
        var sent = new byte[3 << 20];
        new Random(7).NextBytes(sent);
        using var http = new HttpClient { BaseAddress = host.BaseAddress };
        using var response = await http.PostAsync("/echo", new ByteArrayContent(sent));
        var got = await response.Content.ReadAsByteArrayAsync();
        Array.Reverse(got);
        Assert.That(got, Is.EqualTo(sent));
        Assert.That(((HttpHost.SharedArrayMemoryPoolFactory)factory).Created, Is.GreaterThan(0),
            "Kestrel took its pools from somewhere else: the factory was never asked");
    }

    [Test]
    public void PortInUse_IsAnIOExceptionNamingTheAddress()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var e = Assert.Throws<IOException>(() => HttpHost.Start(new IPEndPoint(IPAddress.Loopback, port), Hello));
        Assert.That(e!.Message, Does.Contain($"cannot listen on 127.0.0.1:{port}"));
    }

    /// <summary>
    /// A client that connects while the server starts (a Prometheus scraper, a test polling the port) made the managed
    /// HttpListener's Start() throw ArgumentNullException (dotnet/corefx#35191) and sei-inject exit at start-up.
    /// </summary>
    [Test]
    public async Task Start_WhileClientsKeepConnecting_StartsEveryTime()
    {
        var port = FreePort();
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        using var stop = new CancellationTokenSource();
        var connects = 0;
        var hammer = Task.Run(async () =>
        {
            for (var i = 0; i < 1_000_000 && !stop.IsCancellationRequested; i++)
            {
                using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await client.ConnectAsync(endpoint, stop.Token);
                    Interlocked.Increment(ref connects);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    // Not listening at this instant: try again at once.
                }
            }
        });
        try
        {
            for (var start = 0; start < 20; start++)
            {
                using var host = HttpHost.Start(endpoint, Hello);
                using var http = new HttpClient { BaseAddress = host.BaseAddress };
                Assert.That(await http.GetStringAsync("/"), Is.EqualTo("hello"), $"start {start}");
            }
        }
        finally
        {
            await stop.CancelAsync();
            await hammer;
        }
        Assert.That(connects, Is.GreaterThan(0), "the hammering client never reached the server: the test proved nothing");
    }

    [Test]
    public async Task SilentConnection_IsClosedByTheHeaderTimeout()
    {
        using var host = HttpHost.Start(new IPEndPoint(IPAddress.Loopback, 0), Hello,
            new HttpHostLimits { RequestHeadersTimeout = TimeSpan.FromSeconds(1), KeepAliveTimeout = TimeSpan.FromSeconds(1) });
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(host.LocalEndPoint);
        var buffer = new byte[1024];
        // Wait on the server's close (a read that ends), bounded only against a hang: Kestrel checks timeouts once a second.
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var read = await silent.ReceiveAsync(buffer, SocketFlags.None, bound.Token);
        Assert.That(read, Is.Zero.Or.GreaterThan(0), "the server closed (0) or answered 408 and closed");
        while (read > 0) read = await silent.ReceiveAsync(buffer, SocketFlags.None, bound.Token);
        Assert.That(read, Is.Zero);
    }

    [Test]
    public async Task ConnectionsOverTheCap_AreRefused_AndTheServerServesAgainWhenTheyGo()
    {
        using var host = HttpHost.Start(new IPEndPoint(IPAddress.Loopback, 0), Hello,
            new HttpHostLimits { MaxConcurrentConnections = 4, RequestHeadersTimeout = TimeSpan.FromSeconds(60) });
        var idle = new List<Socket>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                idle.Add(s);
                await s.ConnectAsync(host.LocalEndPoint);
                await s.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), SocketFlags.None);
                var got = new byte[512];
                // Each is served (so it certainly holds a slot) and stays open (keep-alive).
                Assert.That(await s.ReceiveAsync(got, SocketFlags.None), Is.GreaterThan(0));
            }
            using var http = new HttpClient { BaseAddress = host.BaseAddress };
            Assert.That(async () => await http.GetStringAsync("/"), Throws.InstanceOf<HttpRequestException>());
        }
        finally
        {
            foreach (var s in idle) s.Dispose();
        }
        using var again = new HttpClient { BaseAddress = host.BaseAddress };
        // Kestrel frees a slot when it notices the close; ask until it does (bounded).
        string? answer = null;
        for (var attempt = 0; attempt < 300 && answer is null; attempt++)
        {
            try
            {
                answer = await again.GetStringAsync("/");
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }
        Assert.That(answer, Is.EqualTo("hello"));
    }
}
