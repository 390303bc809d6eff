// `serve`'s page in a real browser: Debian's Chromium, driven by Selenium through Debian's chromedriver.
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using Xunit;

namespace Denoiser.Tests.EndToEnd;

public sealed class ServePageTests : IClassFixture<ServeTests.Server>
{
    const string Chromium = "/usr/bin/chromium", Driver = "/usr/bin/chromedriver";
    readonly ServeTests.Server server;
    public ServePageTests(ServeTests.Server server) => this.server = server;

    /// <summary>
    /// Opens the page, uploads a noisy picture, waits for the result, moves the before/after slider and the zoom, sets
    /// the strength to 2 (which runs the picture again), downloads the result and checks that the download is what
    /// `denoise --strength 2` writes. DENOISER_SCREENSHOT=PATH saves the page as it then looks (the README's picture), of
    /// DENOISER_SCREENSHOT_PNG when given instead of the synthetic picture.
    /// </summary>
    [SkippableFact]
    public void A_browser_uploads_compares_sets_the_strength_and_downloads_what_denoise_writes()
    {
        Skip.IfNot(File.Exists(Chromium) && File.Exists(Driver), "chromium and chromium-driver are not installed (.ci/run installs them as root)");
        string downloads = Path.Combine(server.Dir.Path, "downloads");
        Directory.CreateDirectory(downloads);
        string input = Path.Combine(server.Dir.Path, "photo.png");
        if (Environment.GetEnvironmentVariable("DENOISER_SCREENSHOT_PNG") is { Length: > 0 } photo) File.Copy(photo, input); // a real photograph for the README
        else TestFiles.WriteRgbPng(input, 160, 120, seed: 7);

        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,1000");
        options.AddUserProfilePreference("download.default_directory", downloads);
        options.AddUserProfilePreference("download.prompt_for_download", false);
        using var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
        service.HideCommandPromptWindow = true;
        using var browser = new ChromeDriver(service, options, TimeSpan.FromMinutes(1));
        browser.Navigate().GoToUrl(server.Url + "/");
        Wait(() => browser.FindElements(By.CssSelector("#model option")).Count > 1, "the model list");

        browser.FindElement(By.Id("files")).SendKeys(input);
        var card = browser.FindElement(By.CssSelector(".card"));
        Wait(() => card.GetAttribute("data-done") == "1", "the first result");
        Assert.Contains("photo-rgb", card.FindElement(By.CssSelector(".note")).Text);

        var js = (IJavaScriptExecutor)browser;
        void Set(string selector, string value, string eventName) =>
            js.ExecuteScript($"const e = arguments[0].querySelector('{selector}'); e.value = '{value}'; e.dispatchEvent(new Event('{eventName}'));", card);
        Set(".slider", "20", "input");
        Assert.Contains("20%", (string?)js.ExecuteScript("return arguments[0].querySelector('.after').style.clipPath;", card));
        Set(".zoom", "3", "input");
        Assert.Contains("scale(3)", (string?)js.ExecuteScript("return arguments[0].querySelector('.stack').style.transform;", card));
        Set(".strength", "2", "change");
        Wait(() => card.GetAttribute("data-done") == "2", "the result at strength 2");
        Assert.Contains("strength 2", card.FindElement(By.CssSelector(".note")).Text);

        card.FindElement(By.CssSelector(".download")).Click();
        string downloaded = Path.Combine(downloads, "photo.denoised.png");
        Wait(() => File.Exists(downloaded) && new FileInfo(downloaded).Length > 0, "the download");
        string written = Path.Combine(server.Dir.Path, "photo.cli.png");
        var r = Cli.Run(server.Dir.Path, "denoise", input, "-o", written, "--strength", "2");
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        Assert.Equal(File.ReadAllBytes(written), File.ReadAllBytes(downloaded));

        if (Environment.GetEnvironmentVariable("DENOISER_SCREENSHOT") is { Length: > 0 } shot)
        {
            Set(".zoom", "2", "input");
            Set(".slider", "50", "input");
            ((ITakesScreenshot)browser).GetScreenshot().SaveAsFile(shot);
        }
    }

    /// <summary>With `serve --api-key` the page asks for the key once, then lists the models and denoises with it.</summary>
    [SkippableFact]
    public void With_an_api_key_the_page_asks_for_it_once_and_sends_it()
    {
        Skip.IfNot(File.Exists(Chromium) && File.Exists(Driver), "chromium and chromium-driver are not installed (.ci/run installs them as root)");
        using var dir = new TempDir();
        string input = Path.Combine(dir.Path, "photo.png");
        TestFiles.WriteRgbPng(input, 64, 48, seed: 3);
        using var keyed = new ServeProcess(dir.Path, "--api-key", "sesame");
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,1000");
        using var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
        service.HideCommandPromptWindow = true;
        using var browser = new ChromeDriver(service, options, TimeSpan.FromMinutes(1));
        browser.Navigate().GoToUrl(keyed.Url + "/");
        var box = browser.FindElement(By.Id("keybox"));
        Wait(() => box.Displayed, "the request for the API key");
        browser.FindElement(By.Id("key")).SendKeys("sesame");
        browser.FindElement(By.Id("keyok")).Click();
        Wait(() => browser.FindElements(By.CssSelector("#model option")).Count > 1, "the model list, fetched with the key");
        Assert.False(box.Displayed);
        browser.FindElement(By.Id("files")).SendKeys(input);
        var card = browser.FindElement(By.CssSelector(".card"));
        Wait(() => card.GetAttribute("data-done") == "1", "the result, denoised with the key");
        Assert.False(box.Displayed); // asked once: kept for the tab
    }

    static void Wait(Func<bool> done, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!done())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"the page did not show {what} within 2 minutes");
            Thread.Sleep(100);
        }
    }
}
