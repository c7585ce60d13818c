package jcluster.master.messages;

import jcluster.common.Frame;
import jcluster.common.Message;

import java.util.List;

/**
 * Routes the apps' messages between workers, reading nothing of a message but its target: to one worker, to every
 * other live worker, or to all of them. Semantics, which README states:
 * <ul>
 *   <li>at most once, and in order from one sender to one recipient (one socket each way, one thread routing);</li>
 *   <li>only to workers live when it is routed: a worker started later sees nothing sent before;</li>
 *   <li>bounded everywhere: a recipient whose socket to the master is not writable (its outbound buffer past the
 *   high-water mark: a stalled or slow worker) does not get it; it is dropped, counted, and the sender is told
 *   (DROPPED), so the master never buffers more than that mark per worker.</li>
 * </ul>
 * On the master's loop.
 */
public final class MessageRouter {
    /** A worker as the router sees it. */
    public interface Recipient {
        int id();

        boolean live();

        /** Queues the frame if its socket takes more now; false if it does not (the message is dropped). */
        boolean offer(Frame f);
    }

    private long routed;
    private long dropped;

    /**
     * @param sender who sent it (null: the control socket's {@code send}); told of what was dropped
     * @return how many recipients got it queued, or -1 when it named no live worker
     */
    public int route(Recipient sender, Frame message, List<? extends Recipient> workers) {
        int target = Message.peerOf(message);
        Frame out = Message.withPeer(message, sender == null ? Message.FROM_MASTER : sender.id());
        int queued = 0;
        int lost = 0;
        boolean found = false;
        for (Recipient w : workers) {
            if (!w.live()) {
                continue;
            }
            boolean self = sender != null && w.id() == sender.id();
            boolean wanted = target == Message.ALL || (target == Message.OTHERS && !self) || target == w.id();
            if (!wanted) {
                continue;
            }
            found = true;
            if (w.offer(out)) {
                queued++;
            } else {
                lost++;
            }
        }
        routed += queued;
        dropped += lost;
        if (lost > 0 && sender != null) {
            sender.offer(Frame.dropped(lost));
        }
        return found || target == Message.OTHERS ? queued : -1;
    }

    /** Deliveries queued so far (one message to three workers: three). */
    public long routed() {
        return routed;
    }

    /** Deliveries dropped so far: a recipient's queue was full. */
    public long dropped() {
        return dropped;
    }
}
