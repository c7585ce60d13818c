package jcluster.worker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import jcluster.app.AppContext;
import jcluster.common.Frame;
import jcluster.common.FrameCodec;
import jcluster.common.WorkerStats;
import jcluster.worker.http.BlockingPool;
import jcluster.worker.http.HttpInitializer;
import jcluster.worker.http.Limits;
import jcluster.worker.http.ServerState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * A training run for the workers' class-data archive (AppCDS): loads what a worker loads on its way to READY
 * (logging, the event loop and its native transport, the sockets, the codec, the HTTP pipeline and the app, through
 * the self-probe), then exits 0 so the JVM can write the archive.
 */
final class TrainingRun {
    private static final Logger log = LoggerFactory.getLogger(TrainingRun.class);
    private TrainingRun() {
    }

    static int run() {
        EventLoopGroup g = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            DefaultApp app = new DefaultApp();
            app.start(new AppContext() {
                @Override
                public int workerId() {
                    return 0;
                }

                @Override
                public long uptimeMillis() {
                    return 0;
                }

                @Override
                public int openConnections() {
                    return 0;
                }

                @Override
                public long requestsServed() {
                    return 0;
                }
            });
            SelfProbe.check(new HttpInitializer(app, null, ServerState.UNCOUNTED, new BlockingPool(1, 1, null),
                    Limits.DEFAULT, jcluster.worker.http.Features.NONE));
            for (Channel ch : new Channel[] {new EpollDomainSocketChannel(), new EpollSocketChannel()}) {
                g.next().register(ch).syncUninterruptibly();
                ch.close().syncUninterruptibly();
            }
            ByteBuf b = Unpooled.buffer();
            FrameCodec.encodeTo(Frame.stats(new WorkerStats(0, 0, 0, 0, Heartbeat.rssBytes(), Heartbeat.cpuNanos(),
                    HeapAfterGc.percent(), 0)), b);
            FrameCodec.decode(b);
            b.release();
            log.info("training run done");
            return 0;
        } finally {
            g.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }
}
