using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Cleanroom.Cli.Tests;

public sealed class RenderingTests
{
    private static readonly Timestamp Created = Timestamp.FromDateTime(new DateTime(2026, 11, 29, 5, 11, 2, DateTimeKind.Utc));

    private static Sandbox Ready() => new()
    {
        SandboxId = "01kr7p9ksmfa7rmyypyqw2w8r0",
        Status = SandboxStatus.Ready,
        Backend = "qemu",
        Accelerator = "tcg",
        ImageRef = "builtin:base",
        CreatedAt = Created,
        UpdatedAt = Timestamp.FromDateTime(new DateTime(2026, 11, 29, 5, 11, 4, DateTimeKind.Utc)),
        LastExecutionId = "01kr7pa0000000000000000000",
        Vcpus = 2,
        MemoryMib = 512,
        BootMs = 1834,
    };

    private static Sandbox Failed() => new()
    {
        SandboxId = "01kr7q00000000000000000000",
        Status = SandboxStatus.Failed,
        StatusMessage = "the VM exited",
        Backend = "qemu",
        CreatedAt = Created,
        ImageRef = "registry.example/[odd]:tag",
    };

    private static string Render(Action<StringWriter> write)
    {
        using var writer = new StringWriter { NewLine = "\n" };
        write(writer);
        return writer.ToString();
    }

    [Fact]
    public void Sandbox_table_without_a_terminal_is_plain_aligned_text()
    {
        var text = Render(w => SandboxViews.WriteTable(w, OutputStyle.Plain, [Ready(), Failed()]));
        Assert.Equal(
            "ID                           STATUS   BACKEND   CREATED                IMAGE\n"
            + "01kr7p9ksmfa7rmyypyqw2w8r0   ready    qemu      2026-11-29T05:11:02Z   builtin:base\n"
            + "01kr7q00000000000000000000   failed   qemu      2026-11-29T05:11:02Z   registry.example/[odd]:tag\n",
            text);
    }

    [Fact]
    public void Empty_sandbox_table_prints_headers_only() =>
        Assert.Equal("ID   STATUS   BACKEND   CREATED   IMAGE\n", Render(w => SandboxViews.WriteTable(w, OutputStyle.Plain, [])));

    [Fact]
    public void Sandbox_table_on_a_terminal_has_borders_and_honours_no_color()
    {
        var text = Render(w => SandboxViews.WriteTable(w, new OutputStyle(Rich: true, Color: false, Width: 120), [Ready(), Failed()]));
        Assert.Contains("╭", text, StringComparison.Ordinal);
        Assert.Contains("01kr7p9ksmfa7rmyypyqw2w8r0", text, StringComparison.Ordinal);
        Assert.Contains("registry.example/[odd]:tag", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Sandbox_table_on_a_terminal_colours_the_status()
    {
        var text = Render(w => SandboxViews.WriteTable(w, new OutputStyle(Rich: true, Color: true, Width: 120), [Ready()]));
        Assert.Contains("\u001b[", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, null, null, true)]
    [InlineData(true, "1", null, false)]
    [InlineData(false, null, null, false)]
    [InlineData(false, null, "1", true)]
    [InlineData(true, "", null, true)]
    public void Output_style_follows_terminal_no_color_and_clicolor_force(bool terminal, string? noColor, string? force, bool color)
    {
        using var cli = new CliHarness { StdoutIsTerminal = terminal };
        if (noColor is not null)
        {
            cli.Environment["NO_COLOR"] = noColor;
        }

        if (force is not null)
        {
            cli.Environment["CLICOLOR_FORCE"] = force;
        }

        var style = OutputStyle.For(cli.Context);
        Assert.Equal(terminal, style.Rich);
        Assert.Equal(color, style.Color);
    }

    [Fact]
    public void Sandbox_inspect_is_key_value_lines()
    {
        var sandbox = Ready();
        sandbox.Workspace = new SandboxWorkspace { Repository = "https://git.example/app", Commit = new string('a', 40), Path = "/workspace", ImageBuilt = true };
        sandbox.StartMode = "warm";
        sandbox.StartNote = "restored from template 722e0764b1740784";
        sandbox.BootPhases.Add(new BootPhase { Name = "restore", Milliseconds = 180 });
        sandbox.BootPhases.Add(new BootPhase { Name = "configure", Milliseconds = 12 });
        var text = Render(w => SandboxViews.WriteInspect(w, sandbox));
        Assert.Equal(
            """
            sandbox_id: 01kr7p9ksmfa7rmyypyqw2w8r0
            status: ready
            status_message:
            backend: qemu
            accelerator: tcg
            image_ref: builtin:base
            image_digest:
            policy_hash:
            vcpus: 2
            memory_mib: 512
            created_at: 2026-11-29T05:11:02Z
            updated_at: 2026-11-29T05:11:04Z
            last_execution_id: 01kr7pa0000000000000000000
            active_execution_id:
            boot_ms: 1834
            start_mode: warm
            start_note: restored from template 722e0764b1740784
            boot_phases: restore 180 ms, configure 12 ms
            guest_address:
            dangerously_allow_all:
            repository: https://git.example/app
            repository_commit: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
            workspace_path: /workspace
            local_changes_copied: false
            skipped_submodules:

            """.Replace("\r", "", StringComparison.Ordinal),
            text);
    }

    [Fact]
    public void A_denied_connection_reads_as_one_line_with_its_destination()
    {
        var at = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 29, 5, 11, 2, TimeSpan.Zero));
        Assert.Equal(
            "2026-11-29T05:11:02Z  denied  tcp 192.0.2.7:443  host_not_allowed",
            SandboxViews.EventLine(new SandboxEvent { Kind = SandboxEventKind.EgressDenied, OccurredAt = at, Protocol = "tcp", Destination = "192.0.2.7", Port = 443, ReasonCode = "host_not_allowed" }));
        Assert.Equal(
            "2026-11-29T05:11:02Z  denied  dns evil.example:53  host_not_allowed  (3 more denials were not recorded (rate limit))",
            SandboxViews.EventLine(new SandboxEvent { Kind = SandboxEventKind.EgressDenied, OccurredAt = at, Protocol = "dns", Destination = "evil.example", Port = 53, ReasonCode = "host_not_allowed", Message = "3 more denials were not recorded (rate limit)" }));
        Assert.Equal(
            "2026-11-29T05:11:02Z  status  ready",
            SandboxViews.EventLine(new SandboxEvent { Kind = SandboxEventKind.Status, OccurredAt = at, Status = SandboxStatus.Ready }));
    }

    [Fact]
    public void Doctor_text_aligns_names_and_ends_with_a_summary()
    {
        var response = new DoctorResponse
        {
            Checks =
            {
                new DoctorCheck { Name = "qemu_binary", Status = CheckStatus.Pass, Message = "/usr/bin/qemu-system-x86_64" },
                new DoctorCheck { Name = "kvm", Status = CheckStatus.Warn, Message = "probe boot hung; using tcg" },
                new DoctorCheck { Name = "mkfs_ext4", Status = CheckStatus.Pass, Message = "" },
            },
        };
        Assert.Equal(
            "pass  qemu_binary  /usr/bin/qemu-system-x86_64\n"
            + "warn  kvm          probe boot hung; using tcg\n"
            + "pass  mkfs_ext4\n"
            + "summary: 2 pass, 1 warn, 0 fail\n",
            Render(w => DoctorReport.Write(w, OutputStyle.Plain, response)));
    }

    [Fact]
    public void Doctor_text_says_what_the_daemon_enforces_and_what_it_refuses()
    {
        var response = new DoctorResponse { Checks = { new DoctorCheck { Name = "agent", Status = CheckStatus.Pass } } };
        response.Capabilities.Add("policy.docker", false);
        response.Capabilities.Add("exec.streaming", true);
        response.Capabilities.Add("network.allowlist_egress", false);
        Assert.Equal(
            "pass  agent\n"
            + "supported: exec.streaming\n"
            + "not yet (refused when asked for): network.allowlist_egress policy.docker\n"
            + "summary: 1 pass, 0 warn, 0 fail\n",
            Render(w => DoctorReport.Write(w, OutputStyle.Plain, response)));
    }

    [Fact]
    public void Doctor_text_colours_the_status_word_only_with_colour_on()
    {
        var response = new DoctorResponse { Checks = { new DoctorCheck { Name = "agent", Status = CheckStatus.Fail, Message = "missing" } } };
        Assert.Equal(
            "\u001b[31mfail\u001b[0m  agent  missing\nsummary: 0 pass, 0 warn, 1 fail\n",
            Render(w => DoctorReport.Write(w, new OutputStyle(Rich: true, Color: true, Width: 80), response)));
    }

    [Fact]
    public void Execution_views_leave_the_exit_code_blank_until_finished()
    {
        var running = new Execution { ExecutionId = "e1", SandboxId = "s1", Status = ExecutionStatus.Running, CreatedAt = Created, Command = { "sleep", "10" } };
        var done = new Execution { ExecutionId = "e2", SandboxId = "s1", Status = ExecutionStatus.Failed, ExitCode = 0, CreatedAt = Created, Command = { "sh", "-c", "exit 0; it's" } };
        Assert.Equal(
            "ID   STATUS    EXIT   CREATED                COMMAND\n"
            + "e1   running          2026-11-29T05:11:02Z   sleep 10\n"
            + "e2   failed    0      2026-11-29T05:11:02Z   sh -c 'exit 0; it'\\''s'\n",
            Render(w => ExecutionViews.WriteTable(w, OutputStyle.Plain, [running, done])));
    }

    [Fact]
    public void A_long_command_line_is_cut_and_says_how_much_was_left_out()
    {
        var shown = ApiText.Command(["echo", new string('x', 50), .. Enumerable.Repeat("more", 1000)], maxLength: 40);
        Assert.Equal("echo " + new string('x', 35) + "…(cut: 15 more characters, 1000 more arguments)", shown);
    }

    [Theory]
    [InlineData(0.25, "250ms")]
    [InlineData(4.27, "4.2s")]
    [InlineData(192, "3m12s")]
    [InlineData(7500, "2h05m")]
    public void Durations_read_as_people_say_them(double seconds, string expected) =>
        Assert.Equal(expected, ApiText.Duration(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Status_of_a_running_execution_says_how_long_it_has_run_and_shows_no_exit_code()
    {
        var running = new Execution
        {
            ExecutionId = "e1",
            SandboxId = "s1",
            Status = ExecutionStatus.Running,
            CreatedAt = Created,
            StartedAt = Created,
            Command = { "make", "-j4" },
        };
        Assert.Equal(
            "execution: e1\n"
            + "sandbox:   s1\n"
            + "command:   make -j4\n"
            + "status:    running\n"
            + "created:   2026-11-29T05:11:02Z\n"
            + "started:   2026-11-29T05:11:02Z\n"
            + "finished:  not yet (running for 3m12s)\n"
            + "output:    on the daemon, read with ExecutionService.StreamExecution, until the sandbox is removed or the output retention passes\n",
            Render(w => ExecutionViews.WriteStatus(w, OutputStyle.Plain, running, Created.ToDateTimeOffset().AddSeconds(192))));
    }

    [Fact]
    public void Status_of_a_signalled_execution_names_the_signal()
    {
        var killed = new Execution { ExecutionId = "e1", SandboxId = "s1", Status = ExecutionStatus.Canceled, ExitCode = 143, Signal = 15, Command = { "sleep" } };
        Assert.Contains("status:    canceled by signal 15 (exit code 143)\n", Render(w => ExecutionViews.WriteStatus(w, OutputStyle.Plain, killed, DateTimeOffset.UnixEpoch)), StringComparison.Ordinal);
    }

    [Fact]
    public void Json_output_is_the_protobuf_json_mapping_on_one_line()
    {
        var text = Render(w => JsonOutput.Write(w, Ready()));
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        Assert.Single(text.TrimEnd('\n').Split('\n'));
        Assert.Contains("\"sandboxId\": \"01kr7p9ksmfa7rmyypyqw2w8r0\"", text, StringComparison.Ordinal);
        Assert.Contains("\"status\": \"SANDBOX_STATUS_READY\"", text, StringComparison.Ordinal);
        Assert.Equal(Ready(), JsonParser.Default.Parse<Sandbox>(text));
    }

    [Fact]
    public void Sandbox_inspect_shows_the_image_digest_when_set()
    {
        var sandbox = Ready();
        sandbox.ImageRef = "alpine:3.20";
        sandbox.ImageDigest = "sha256:" + new string('a', 64);
        Assert.Contains($"image_ref: alpine:3.20\nimage_digest: sha256:{new string('a', 64)}\n", Render(w => SandboxViews.WriteInspect(w, sandbox)), StringComparison.Ordinal);
    }

    [Fact]
    public void Image_table_without_a_terminal_is_plain_aligned_text()
    {
        var now = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        var pulled = new Image
        {
            Digest = "sha256:0123456789abcdef" + new string('0', 48),
            Refs = { "alpine:3.20", "alpine@sha256:" + new string('f', 64), "alpine:3" },
            ContentBytes = 3_565_158,
            LastUsedAt = Timestamp.FromDateTimeOffset(now.AddMinutes(-3)),
            RootfsPath = "/var/lib/cleanroom/images/0123.ext4",
        };
        var imported = new Image
        {
            Digest = "sha256:fedcba9876543210" + new string('0', 48),
            Refs = { "registry.example/app@sha256:" + new string('e', 64) },
            ContentBytes = 2L * 1024 * 1024 * 1024,
            LastUsedAt = Timestamp.FromDateTimeOffset(now.AddDays(-40)),
            RootfsPath = "/var/lib/cleanroom/images/fedc.ext4",
        };
        Assert.Equal(
            "DIGEST                REF                                                                                            SIZE     LAST_USED       ROOTFS\n"
            + "sha256:0123456789ab   alpine:3.20,alpine:3                                                                           3.4MiB   3 minutes ago   /var/lib/cleanroom/images/0123.ext4\n"
            + $"sha256:fedcba987654   registry.example/app@sha256:{new string('e', 64)}   2GiB     5 weeks ago     /var/lib/cleanroom/images/fedc.ext4\n",
            Render(w => ImageViews.WriteTable(w, OutputStyle.Plain, [pulled, imported], now)));
    }

    [Theory]
    [InlineData(0.4, "just now")]
    [InlineData(-5, "just now")]
    [InlineData(1, "1 second ago")]
    [InlineData(59, "59 seconds ago")]
    [InlineData(60, "1 minute ago")]
    [InlineData(3 * 60 + 5, "3 minutes ago")]
    [InlineData(2 * 3600, "2 hours ago")]
    [InlineData(86400, "1 day ago")]
    [InlineData(20 * 86400, "2 weeks ago")]
    [InlineData(90 * 86400, "3 months ago")]
    [InlineData(800 * 86400, "2 years ago")]
    public void Relative_times_read_like_speech(double secondsAgo, string expected)
    {
        var now = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal(expected, ApiText.Ago(Timestamp.FromDateTimeOffset(now.AddSeconds(-secondsAgo)), now));
    }

    [Fact]
    public void An_unset_time_is_blank_not_decades_ago() =>
        Assert.Equal("", ApiText.Ago(null, DateTimeOffset.UtcNow));

    [Theory]
    [InlineData(0, "0B")]
    [InlineData(1023, "1023B")]
    [InlineData(1536, "1.5KiB")]
    [InlineData(3_565_158, "3.4MiB")]
    [InlineData(150L * 1024 * 1024, "150MiB")]
    [InlineData(8L * 1024 * 1024 * 1024, "8GiB")]
    public void Sizes_use_binary_units_without_a_space(long bytes, string expected) =>
        Assert.Equal(expected, ApiText.Bytes(bytes));

    [Theory]
    [InlineData("sha256:0123456789abcdef0123", "sha256:0123456789ab")]
    [InlineData("sha256:0123", "sha256:0123")]
    [InlineData("", "")]
    public void Short_digests_keep_the_algorithm_and_12_hex_digits(string digest, string expected) =>
        Assert.Equal(expected, ApiText.ShortDigest(digest));

    [Fact]
    public void Json_objects_are_one_line_and_keep_paths_readable()
    {
        var text = Render(w => JsonOutput.WriteObject(w, [("policy", "/répo/cleanroom.yaml"), ("ref", "a+b")]));
        Assert.Equal("{\"policy\":\"/répo/cleanroom.yaml\",\"ref\":\"a+b\"}\n", text);
    }
}
