package jcluster.worker;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import jcluster.common.Logging;
import jcluster.app.AppContext;
import jcluster.worker.http.BlockingPool;
import jcluster.worker.http.HttpInitializer;
import jcluster.worker.http.Limits;
import jcluster.worker.http.ServerState;

import java.util.concurrent.atomic.LongAdder;

/**
 * Benchmark baseline, not part of the product: the worker's HTTP pipeline and default app in one JVM with N event
 * loop threads, listening itself. {@code bench/run.sh} runs it beside the cluster so that the difference between
 * the two is the cost of the master, the handoff and the separate processes, nothing else.
 * <p>Usage: {@code java -cp master.jar jcluster.worker.BenchServer PORT THREADS}
 */
public final class BenchServer {
    private BenchServer() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 2) {
            System.err.println("usage: BenchServer PORT THREADS");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        int threads = Integer.parseInt(args[1]);
        Logging.init("bench-single-jvm");
        long start = System.nanoTime();
        LongAdder requests = new LongAdder();
        ServerState state = new ServerState() {
            @Override
            public boolean draining() {
                return false;
            }

            @Override
            public void requestServed() {
                requests.increment();
            }

            @Override
            public void inFlight(int delta) {
            }
        };
        AppContext info = new AppContext() {
            @Override
            public int workerId() {
                return 0;
            }

            @Override
            public long uptimeMillis() {
                return (System.nanoTime() - start) / 1_000_000;
            }

            @Override
            public int openConnections() {
                return -1;
            }

            @Override
            public long requestsServed() {
                return requests.sum();
            }
        };
        // the same limits the master gives workers by default
        DefaultApp app = new DefaultApp();
        app.start(info);
        HttpInitializer http = new HttpInitializer(app, null, state, new BlockingPool(16, 64, null), Limits.DEFAULT,
                jcluster.worker.http.Features.NONE);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
        Channel server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        http.init(ch);
                    }
                })
                .bind(port).sync().channel();
        System.err.println("bench single-JVM server on port " + port + " with " + threads + " event loop thread(s)");
        server.closeFuture().sync();
    }
}
