using Microsoft.Playwright;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>Debian's chromium as the console's browser tests drive it through Playwright (no browser download).</summary>
internal static class ConsoleBrowser
{
    /// <summary>Where Debian installs chromium (scripts/install-deps.sh).</summary>
    public const string Chromium = "/usr/bin/chromium";

    /// <summary>How long any page condition may take before the test fails: a bound for a hang on a loaded machine.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary><see cref="Patience"/> in ms, as Playwright takes it.</summary>
    public static float PatienceMs => (float)Patience.TotalMilliseconds;

    /// <summary>Headless chromium on a closed network: without these flags it stalls on its own background traffic.</summary>
    public static readonly string[] Args =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"];

    /// <summary>Fails the test, loudly and with the fix, when chromium is missing (CI installs it; nothing is skipped).</summary>
    public static void Require()
    {
        if (!File.Exists(Chromium))
            Assert.Fail($"{Chromium} is missing: the console's browser tests drive Debian's chromium. Run scripts/install-deps.sh (apt-get install chromium).");
    }

    /// <summary>Saves a full-page screenshot into console-screenshots/ of the test run's work directory and attaches it to the results.</summary>
    public static async Task Screenshot(IPage page, string name, string description)
    {
        var folder = Path.Combine(TestContext.CurrentContext.WorkDirectory, "console-screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.AddTestAttachment(path, description);
    }
}
