using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CatEvening.SeiInjector.Live;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using Microsoft.Playwright;
using NUnit.Framework;
using static CatEvening.SeiInjector.Tests.Live.LiveEndToEndTests;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>
/// The operator console in a real browser (Debian's chromium driven by Playwright, no browser download) against a real
/// <c>sei-inject run</c> between two nginx-rtmp streams: log in, watch the run of show count down, fire cues with a
/// click and with the keyboard, end and cancel cues, see delivered and closed states arrive, a wrong token refused,
/// and "unreachable" once the injector is killed. Screenshots go to console-screenshots/ in the test run's work
/// directory (the build output, not committed) and are attached to the test results.
/// Every wait is on a page condition with a generous timeout; nothing sleeps.
/// </summary>
[TestFixture]
[NonParallelizable]
public partial class ConsoleBrowserTests
{
    private const string Token = "console-test-token-0123456789";
    private static readonly float PatienceMs = ConsoleBrowser.PatienceMs;

    private NginxRtmp _server = null!;
    private ShowFolder? _folder;
    private FFmpegPublisher _publisher = null!;
    private Injector _injector = null!;
    private IPlaywright _playwright = null!;
    private IBrowserContext _browser = null!;

    private string Url => $"http://{_injector.Control}/";

    [OneTimeSetUp]
    public async Task StartInjectorAndBrowser()
    {
        ConsoleBrowser.Require();
        _folder = ShowFolder.Create("catevening-console-browser-", Token);
        _server = NginxRtmp.StartPrivate();
        _publisher = FFmpegPublisher.Start(TestMedia.Get(VideoProfile.H264Main, Container.Flv), _server.Url("console-in"));
        _injector = Injector.Start(_server, "console-in", "console-out", _folder.Key, _folder.TokenFile, _folder.File("audit.jsonl"));
        using (var api = new ControlClient(_injector.Control, Encoding.UTF8.GetBytes(Token)))
        {
            WaitForStatus(api, s => s.Frames > 25, "the injector to pass a second of video", _injector);
            Assert.That(Fire(api, """{"id":"later","at":"10m","duration":"30s"}""").Status, Is.EqualTo(201), "a cue of the run of show");
        }

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchPersistentContextAsync(_folder.File("chromium-profile"), new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = ConsoleBrowser.Chromium,
            Headless = true,
            Args = ConsoleBrowser.Args,
            ViewportSize = new ViewportSize { Width = 1280, Height = 1000 },
            Timeout = PatienceMs,
        });
        _browser.SetDefaultTimeout(PatienceMs);
        Assertions.SetDefaultExpectTimeout(PatienceMs);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
        _injector?.Dispose();
        _publisher?.Dispose();
        _server?.Dispose();
        _folder?.Dispose();
    }

    private async Task<IPage> LogIn(string token)
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(Url);
        await page.Locator("#token").FillAsync(token);
        await page.Locator("#login-button").ClickAsync();
        return page;
    }

    private static Task Screenshot(IPage page, string name) => ConsoleBrowser.Screenshot(page, name, "the console: " + name);

    private static ILocator Row(IPage page, string id) => page.Locator($"#schedule tbody tr[data-id=\"{id}\"]");

    private static ILocator History(IPage page, string evt, string id) => page.Locator($"#history tbody tr[data-event=\"{evt}\"][data-id=\"{id}\"]");

    [Test]
    [Order(1)]
    public async Task WrongToken_IsRefused_AndNotKept()
    {
        var page = await LogIn("not-the-token-at-all-0000");
        await Assertions.Expect(page.Locator("#login-error")).ToContainTextAsync("refused");
        await Assertions.Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-state", "refused");
        await Assertions.Expect(page.Locator("#desk")).ToBeHiddenAsync();
        Assert.That(await page.EvaluateAsync<string?>("sessionStorage.getItem('catevening.token')"), Is.Null);
        await Screenshot(page, "1-wrong-token");
        await page.CloseAsync();
    }

    [Test]
    [Order(2)]
    public async Task Director_SeesTheCountdown_FiresByClickAndKey_EndsAndCancels_AndSeesDeliveredAndClosed()
    {
        var page = await LogIn(Token);
        await Assertions.Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-state", "ok");
        await Assertions.Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-mode", "events");
        Assert.Multiple(async () =>
        {
            Assert.That(await page.EvaluateAsync<string?>("sessionStorage.getItem('catevening.token')"), Is.EqualTo(Token), "kept in the tab's session storage");
            Assert.That(await page.EvaluateAsync<int>("localStorage.length"), Is.Zero, "and nowhere else");
        });
        await Assertions.Expect(page.Locator("#input")).ToHaveTextAsync("connected");

        // The run of show counts down in program time: "later" is due 10 minutes after the first frame.
        var countdown = Row(page, "later").Locator(".countdown");
        await Assertions.Expect(countdown).ToHaveTextAsync(Countdown());
        var first = await countdown.TextContentAsync() ?? "";
        await Assertions.Expect(countdown).Not.ToHaveTextAsync(first);
        var second = await countdown.TextContentAsync() ?? "";
        Assert.That(Seconds(second), Is.LessThan(Seconds(first)).And.GreaterThan(Seconds(first) - 60), $"{first} then {second}");
        await Screenshot(page, "2-run-of-show");

        // Bad data JSON is caught before anything is sent.
        await page.Locator("#cue-data").FillAsync("{\"prize\":");
        await page.Locator("#fire").ClickAsync();
        await Assertions.Expect(page.Locator("#adhoc-error")).ToContainTextAsync("Data: not valid JSON");
        await Assertions.Expect(page.Locator("#confirm")).ToBeHiddenAsync();

        // Fire with a click: the first click only arms it; the confirm step sends it.
        await FillCue(page, "click-1", "2s", """{"prize":"coupon-50"}""");
        await page.Locator("#fire").ClickAsync();
        await Assertions.Expect(page.Locator("#confirm-text")).ToContainTextAsync("Fire interaction-start 'click-1' now?");
        await Assertions.Expect(Row(page, "click-1")).ToHaveCountAsync(0);
        await page.Locator("#confirm-yes").ClickAsync();
        await Assertions.Expect(History(page, "delivered", "click-1")).ToHaveCountAsync(1);
        await Assertions.Expect(History(page, "delivered", "click-1").Locator("td").Nth(5)).ToHaveTextAsync(new Regex(@"^\d+$"));
        await Assertions.Expect(History(page, "ended", "click-1")).ToHaveCountAsync(1);
        await Assertions.Expect(Row(page, "click-1").Locator(".state")).ToHaveTextAsync("ended");

        // Fire with the keyboard: F arms, Escape backs out, F again and Enter sends.
        await FillCue(page, "key-1", "1m", "{}");
        await page.Locator("h1").ClickAsync();
        await page.Keyboard.PressAsync("f");
        await Assertions.Expect(page.Locator("#confirm")).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.Locator("#confirm")).ToBeHiddenAsync();
        await page.Keyboard.PressAsync("f");
        await Assertions.Expect(page.Locator("#confirm-text")).ToContainTextAsync("'key-1'");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(Row(page, "key-1").Locator(".state")).ToHaveTextAsync("active");
        await Assertions.Expect(History(page, "delivered", "key-1")).ToHaveCountAsync(1);

        // End it from the keyboard: select its row, E, Enter: an interaction-end closes it.
        await Row(page, "key-1").Locator(".id").ClickAsync();
        await page.Keyboard.PressAsync("e");
        await Assertions.Expect(page.Locator("#confirm-text")).ToContainTextAsync("End cue 'key-1'");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(History(page, "ended", "key-1")).ToHaveCountAsync(1);
        await Assertions.Expect(Row(page, "key-1").Locator(".state")).ToHaveTextAsync("ended");

        // Cancel the scheduled one with its button and the confirm step.
        await Row(page, "later").Locator("button.cancel").ClickAsync();
        await Assertions.Expect(page.Locator("#confirm-text")).ToContainTextAsync("Cancel cue 'later'?");
        await page.Locator("#confirm-yes").ClickAsync();
        await Assertions.Expect(Row(page, "later").Locator(".state")).ToHaveTextAsync("cancelled");
        await Assertions.Expect(History(page, "cancelled", "later")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#frames")).Not.ToHaveTextAsync("–");
        await Screenshot(page, "3-fired-ended-cancelled");
        await page.CloseAsync();
    }

    [Test]
    [Order(3)]
    public async Task EventStreamRefused_TheConsolePollsEverySecond_AndGoesBackToTheStreamOnceItIsServed()
    {
        var page = await _browser.NewPageAsync();
        await page.RouteAsync("**/v1/events*", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 503, ContentType = "application/json", Body = """{"error":"already 8 live-update streams open"}""",
        }));
        await page.GotoAsync(Url);
        await page.Locator("#token").FillAsync(Token);
        await page.Locator("#login-button").ClickAsync();
        var conn = page.Locator("#conn");
        await Assertions.Expect(conn).ToHaveAttributeAsync("data-mode", "polling");
        await Assertions.Expect(conn).ToHaveAttributeAsync("data-state", "ok");
        await Assertions.Expect(conn).ToContainTextAsync("polling every second");
        await Assertions.Expect(page.Locator("#frames")).ToHaveTextAsync(new Regex(@"^\d+$"));
        var frames = await page.Locator("#frames").TextContentAsync() ?? "";
        await Assertions.Expect(page.Locator("#frames")).Not.ToHaveTextAsync(frames);
        await Screenshot(page, "4-polling");
        await page.UnrouteAllAsync();
        await Assertions.Expect(conn).ToHaveAttributeAsync("data-mode", "events");
        await Assertions.Expect(conn).ToContainTextAsync("server-sent events");
        await page.CloseAsync();
    }

    [Test]
    [Order(4)]
    public async Task InjectorKilled_TheConsoleSaysUnreachable()
    {
        var page = await LogIn(Token);
        await Assertions.Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-state", "ok");
        _injector.Kill();
        await Assertions.Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-state", "unreachable");
        await Assertions.Expect(page.Locator("#conn")).ToContainTextAsync("Injector unreachable");
        await Screenshot(page, "5-unreachable");
        await page.CloseAsync();
    }

    private static async Task FillCue(IPage page, string id, string window, string data)
    {
        await page.Locator("#cue-id").FillAsync(id);
        await page.Locator("#cue-kind").SelectOptionAsync("interaction-start");
        await page.Locator("#cue-at").FillAsync("");
        await page.Locator("#cue-window").FillAsync(window);
        await page.Locator("#cue-data").FillAsync(data);
    }

    [GeneratedRegex(@"^\d+:\d\d\.\d$")]
    private static partial Regex Countdown();

    private static double Seconds(string countdown)
    {
        var parts = countdown.Split(':');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture) * 60) + double.Parse(parts[1], CultureInfo.InvariantCulture);
    }
}
