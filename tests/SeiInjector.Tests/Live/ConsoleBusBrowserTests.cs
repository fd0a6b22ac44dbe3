using System.Text;
using CatEvening.SeiInjector.Bus;
using CatEvening.SeiInjector.Live;
using CatEvening.Tests.Shared;
using Microsoft.Playwright;
using NUnit.Framework;
using static CatEvening.SeiInjector.Tests.Live.LiveEndToEndTests;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>
/// Issue 13: the operator console of an injector on a cue bus shows every injector of the show (from the heartbeat key
/// each keeps in Redis): this one live with its links, program time and lag, and one whose key expired as "gone".
/// Real nginx-rtmp, real redis-server, real <c>sei-inject run --cue-bus</c>, Debian's chromium through Playwright;
/// every wait is on a page condition with a generous timeout.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ConsoleBusBrowserTests
{
    private const string Token = "console-bus-token-0123456789";
    private const string Show = "desk-show";
    private static readonly float PatienceMs = ConsoleBrowser.PatienceMs;

    [Test]
    public async Task Console_OnACueBus_ListsEveryInjectorOfTheShow_LiveAndGone()
    {
        ConsoleBrowser.Require();
        using var folder = ShowFolder.Create("catevening-console-bus-", Token);
        using var nginx = NginxRtmp.StartPrivate();
        using var redis = RedisServer.StartPrivate();
        var busUrl = $"redis://{redis.Endpoint}/{Show}";
        // An injector of the show that beat once and is gone: its name stays in the show's set, its key has expired.
        using (var bus = CueBus.Open(CueBusAddress.Parse(busUrl)))
            bus.Beat("feed-b-backup", "{}", TimeSpan.FromMilliseconds(1));
        using var publisher = FFmpegPublisher.Start(TestMedia.Get(VideoProfile.H264Main, Container.Flv), nginx.Url("bus-in"));
        using var injector = Injector.Start(nginx, "bus-in", "bus-out", folder.Key, folder.TokenFile, folder.File("audit.jsonl"),
            ["--cue-bus", busUrl, "--bus-name", "feed-a-main"]);

        using (var api = new ControlClient(injector.Control, Encoding.UTF8.GetBytes(Token)))
            WaitForStatus(api, s => s.Frames > 25, "the injector to pass a second of video", injector);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ConsoleBrowser.Chromium,
            Headless = true,
            Args = ConsoleBrowser.Args,
            Timeout = PatienceMs,
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1100 } });
        page.SetDefaultTimeout(PatienceMs);
        await page.GotoAsync($"http://{injector.Control}/");
        await page.Locator("#token").FillAsync(Token);
        await page.Locator("#login-button").ClickAsync();
        var expect = new LocatorAssertionsToHaveTextOptions { Timeout = PatienceMs };

        await Assertions.Expect(page.Locator("#show-bus")).ToBeVisibleAsync(new() { Timeout = PatienceMs });
        await Assertions.Expect(page.Locator("#bus-line")).ToHaveAttributeAsync("data-state", "connected", new() { Timeout = PatienceMs });
        var live = page.Locator("#injectors tbody tr[data-injector=\"feed-a-main\"]");
        await Assertions.Expect(live.Locator("td").Nth(3)).ToHaveTextAsync("connected", expect);
        await Assertions.Expect(live.Locator("td").Nth(4)).ToHaveTextAsync("connected", expect);
        await Assertions.Expect(live.Locator("td").Nth(5)).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+\.\d{3} s$"), expect);
        await Assertions.Expect(live.Locator("td").Nth(7)).ToHaveTextAsync("0", expect);
        var gone = page.Locator("#injectors tbody tr[data-injector=\"feed-b-backup\"]");
        await Assertions.Expect(gone).ToHaveAttributeAsync("data-state", "gone", new() { Timeout = PatienceMs });

        await ConsoleBrowser.Screenshot(page, "bus-injectors", "the console on a cue bus");
    }
}
