using System.Collections.Concurrent;
using System.Net.Sockets;
using Cleanroom.GuestAgent.Channel;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>
/// The port's input signal on a non-blocking socket pair standing in for the port (sockets send their owner the same
/// signal for input, from inside the sender's write): it reaches the thread that claimed the port last, and only once
/// input has arrived. Pending signals belong to a thread, so each check runs on the thread it is about.
/// </summary>
public sealed class PortInputSignalTests : IDisposable
{
    private readonly Socket _host;
    private readonly Socket _guest;
    private readonly PortInputSignal _input;
    private readonly DedicatedThread _first = new();
    private readonly DedicatedThread _second = new();

    public PortInputSignalTests()
    {
        (_host, _guest) = ConnectedPair();
        _guest.Blocking = false;
        _input = PortInputSignal.Attach((int)_guest.SafeHandle.DangerousGetHandle());
    }

    [Fact]
    public void Input_signals_the_thread_that_claimed_the_port_last_and_no_other()
    {
        _first.Run(_input.Claim);
        Assert.False(_first.Run(() => Signalled(0)));

        _host.Send([1]);
        Assert.True(_first.Run(() => Signalled(5000)));
        _first.Run(_input.Drain);
        Assert.False(_first.Run(() => Signalled(0)));

        _second.Run(_input.Claim);
        _host.Send([2]);
        Assert.True(_second.Run(() => Signalled(5000)));
        Assert.False(_first.Run(() => Signalled(0)));
    }

    [Fact]
    public void The_host_leaving_signals_the_waiting_thread_too()
    {
        _first.Run(_input.Claim);
        _host.Shutdown(SocketShutdown.Send);
        Assert.True(_first.Run(() => Signalled(5000)));
    }

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
        _input.Dispose();
        _guest.Dispose();
        _host.Dispose();
    }

    private unsafe bool Signalled(int timeoutMilliseconds)
    {
        var poll = new LibC.PollFd { Fd = _input.Fd, Events = LibC.POLLIN };
        return LibC.Poll(&poll, 1, timeoutMilliseconds) == 1;
    }

    private static (Socket Host, Socket Guest) ConnectedPair()
    {
        var path = Path.Combine(Path.GetTempPath(), $"cr-signal-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var host = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        host.Connect(new UnixDomainSocketEndPoint(path));
        var guest = listener.Accept();
        File.Delete(path);
        return (host, guest);
    }

    /// <summary>A thread of its own that runs what it is given, one call at a time, and returns its result.</summary>
    private sealed class DedicatedThread : IDisposable
    {
        private readonly BlockingCollection<Action> _work = [];
        private readonly Thread _thread;

        public DedicatedThread()
        {
            _thread = new Thread(() =>
            {
                foreach (var work in _work.GetConsumingEnumerable())
                {
                    work();
                }
            })
            { IsBackground = true };
            _thread.Start();
        }

        public void Run(Action action) => Run(() =>
        {
            action();
            return true;
        });

        public T Run<T>(Func<T> function)
        {
            var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            _work.Add(() =>
            {
                try
                {
                    done.SetResult(function());
                }
                catch (Exception ex)
                {
                    done.SetException(ex);
                }
            });
            return done.Task.WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        }

        public void Dispose()
        {
            _work.CompleteAdding();
            _thread.Join();
            _work.Dispose();
        }
    }
}
