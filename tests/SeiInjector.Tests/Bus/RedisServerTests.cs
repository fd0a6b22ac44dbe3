using CatEvening.Tests.Shared;
using NUnit.Framework;
using StackExchange.Redis;

namespace CatEvening.SeiInjector.Tests.Bus;

/// <summary>The private redis-server the cue bus tests start: loopback, its own port and data folder, AOF on.</summary>
[TestFixture]
public sealed class RedisServerTests
{
    [Test]
    public void RedisServer_KilledAndStartedAgain_KeepsEveryStreamEntryItAcknowledged()
    {
        using var server = RedisServer.StartPrivate();
        var options = ConfigurationOptions.Parse(server.Endpoint);
        options.AbortOnConnectFail = false;
        RedisValue[] written;
        using (var bus = ConnectionMultiplexer.Connect(options))
        {
            var db = bus.GetDatabase();
            written = Enumerable.Range(1, 5).Select(i => (RedisValue)db.StreamAdd("show:orders", "n", i)).ToArray();
        }
        server.Stop();
        Assert.That(server.IsRunning, Is.False);
        server.Start();
        using (var bus = ConnectionMultiplexer.Connect(options))
        {
            var entries = bus.GetDatabase().StreamRange("show:orders");
            Assert.Multiple(() =>
            {
                Assert.That(entries.Select(e => e.Id), Is.EqualTo(written), server.Log);
                Assert.That(entries.Select(e => (int)e["n"]), Is.EqualTo(new[] { 1, 2, 3, 4, 5 }));
            });
        }
    }
}
