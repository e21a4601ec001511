/* The FIX 4.4 broker adapter: a QuickFIX initiator behind aftm's broker interface.
 *
 * What it is: the mapping between aftm's orders and FIX application messages (D, F, H out;
 * 8, 9, 3, j in), an order journal, and reconciliation after logon. What it is not: a FIX
 * session layer. QuickFIX runs logon, heartbeats, sequence numbers, resend and gap fill in its
 * own thread, with its FileStore under the data directory.
 *
 * Threads: QuickFIX calls fromApp/fromAdmin/onLogon/onLogout on its thread. They only queue the
 * message and wake the caller's loop through a pipe (poll_fd); every broker callback fires on
 * the caller's thread inside service() or another broker call, as broker.h promises. fromApp
 * waits (bounded) until the caller has handled and journaled the message: QuickFIX counts an
 * incoming message as received only when fromApp returns, so a kill -9 before the journal
 * write makes the counterparty send it again on the next logon instead of losing it.
 *
 * Fill ids are "<ClOrdID>/<ExecID>": ExecIDs are unique only per counterparty run (the example
 * executor counts from 1 at each start); a client order id is unique for aftm, so the pair is
 * unique, and a resent or PossDup report keeps both, so it is applied once. */
/* QuickFIX 1.15's Application declares dynamic exception specifications; overriding its
 * methods has to repeat them. */
#pragma GCC diagnostic ignored "-Wdeprecated"

#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/fix44/NewOrderSingle.h>
#include <quickfix/fix44/OrderCancelRequest.h>
#include <quickfix/fix44/OrderStatusRequest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

extern "C" {
#include "app/gateway/fix_broker.h"
#include "core/clock.h"
#include "core/log.h"
}

namespace {

template <size_t N> void copy_str(char (&dst)[N], const std::string &s) { snprintf(dst, N, "%s", s.c_str()); }

void set_err(char *err, size_t errlen, const std::string &s) {
    if (err && errlen) snprintf(err, errlen, "%s", s.c_str());
}

std::string trim(const std::string &s) {
    size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

/* One line of the journal holds no tab or newline inside a field. */
std::string clean(const std::string &s) {
    std::string o = s;
    for (char &c : o)
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return o;
}

bool parse_i64(const std::string &s, int64_t lo, int64_t hi, int64_t *out) {
    if (s.empty()) return false;
    char *end = nullptr;
    errno = 0;
    long long v = strtoll(s.c_str(), &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* ---- settings: QuickFIX's, plus [AFTM] ------------------------------------------------------ */

struct AftmSettings {
    std::vector<std::string> accounts;
    std::map<std::string, std::string> sym_out, sym_in; /* aftm -> FIX, FIX -> aftm */
    bool market_as_limit = false;
    int64_t limit_ticks = 5, tick_size = 1;
    char market_tif = FIX::TimeInForce_IMMEDIATE_OR_CANCEL;
    int64_t status_timeout_ms = 1000, reconcile_timeout_ms = 3000;
    std::string journal;
};

/* Splits the text into QuickFIX's part and the [AFTM] section; adds FileStorePath under home
 * when the settings name none. */
bool split_settings(const std::string &text, const std::string &home, std::string *qf, AftmSettings *a,
                    std::string *err) {
    std::istringstream in(text);
    std::string line, section;
    std::ostringstream out;
    bool has_store = false, has_default = false;
    int lineno = 0;
    while (std::getline(in, line)) {
        lineno++;
        std::string t = trim(line);
        if (!t.empty() && t[0] == '[') {
            section = t;
            for (char &c : section) c = (char)toupper((unsigned char)c);
            if (section == "[DEFAULT]") has_default = true;
            if (section != "[AFTM]") out << line << "\n";
            continue;
        }
        if (section != "[AFTM]") {
            if (t.compare(0, 13, "FileStorePath") == 0) has_store = true;
            out << line << "\n";
            continue;
        }
        if (t.empty() || t[0] == '#') continue;
        size_t eq = t.find('=');
        if (eq == std::string::npos) {
            *err = "[AFTM] line " + std::to_string(lineno) + ": expected key=value, got '" + t + "'";
            return false;
        }
        std::string k = trim(t.substr(0, eq)), v = trim(t.substr(eq + 1));
        int64_t n = 0;
        if (k == "Accounts") {
            std::istringstream vs(v);
            std::string acc;
            while (std::getline(vs, acc, ','))
                if (!trim(acc).empty()) a->accounts.push_back(trim(acc));
        } else if (k.compare(0, 7, "Symbol.") == 0 && k.size() > 7 && !v.empty()) {
            a->sym_out[k.substr(7)] = v;
            a->sym_in[v] = k.substr(7);
        } else if (k == "MarketOrders") {
            if (v == "market") a->market_as_limit = false;
            else if (v == "marketable-limit") a->market_as_limit = true;
            else {
                *err = "[AFTM] MarketOrders must be 'market' or 'marketable-limit', got '" + v + "'";
                return false;
            }
        } else if (k == "MarketableLimitTicks" && parse_i64(v, 0, 100000, &n)) {
            a->limit_ticks = n;
        } else if (k == "TickSize" && parse_i64(v, 1, 1000000, &n)) {
            a->tick_size = n;
        } else if (k == "MarketableLimitTimeInForce") {
            if (v == "IOC") a->market_tif = FIX::TimeInForce_IMMEDIATE_OR_CANCEL;
            else if (v == "FOK") a->market_tif = FIX::TimeInForce_FILL_OR_KILL;
            else if (v == "DAY") a->market_tif = FIX::TimeInForce_DAY;
            else {
                *err = "[AFTM] MarketableLimitTimeInForce must be IOC, FOK or DAY, got '" + v + "'";
                return false;
            }
        } else if (k == "OrderStatusTimeoutMs" && parse_i64(v, 10, 60000, &n)) {
            a->status_timeout_ms = n;
        } else if (k == "ReconcileTimeoutMs" && parse_i64(v, 10, 600000, &n)) {
            a->reconcile_timeout_ms = n;
        } else if (k == "Journal" && !v.empty()) {
            a->journal = v;
        } else {
            *err = "[AFTM] line " + std::to_string(lineno) + ": unknown key or bad value '" + t + "'";
            return false;
        }
    }
    std::string body = out.str();
    if (!has_store && !home.empty()) {
        std::string store = "FileStorePath=" + home + "/fix-store\n";
        if (has_default) {
            size_t p = body.find("]", body.find("[DEFAULT]") != std::string::npos ? body.find("[DEFAULT]") : 0);
            /* the header may be written in another case; find it case-insensitively */
            std::string up = body;
            for (char &c : up) c = (char)toupper((unsigned char)c);
            p = up.find("[DEFAULT]");
            size_t eol = body.find('\n', p);
            body.insert(eol == std::string::npos ? body.size() : eol + 1, store);
        } else {
            body = "[DEFAULT]\n" + store + body;
        }
    }
    if (a->journal.empty() && !home.empty()) a->journal = home + "/fix-orders.journal";
    *qf = body;
    return true;
}

/* ---- orders --------------------------------------------------------------------------------- */

struct Order {
    broker_order_req req{};
    std::string order_id;
    broker_status status = BROKER_ST_NEW;
    int64_t cum = 0, notional = 0;
    std::string reason;
    std::set<std::string> fills;
    std::vector<broker_report> history; /* fills and the final report, for the replay after a crash */
    bool recon_pending = false;
    bool touched = false; /* changed since the last start marker (replayed after a crash) */
};

bool is_final(broker_status s) { return !broker_status_open(s); }

const char *side_code(side_t s) { return s == SIDE_BUY ? "B" : "S"; }

struct Event {
    enum Kind { MSG, LOGON, LOGOUT, REFUSED } kind;
    FIX::Message msg;
    std::string text;
    uint64_t id = 0;
};

struct Sent {
    std::string type, clordid;
};

class FixBroker;

class App : public FIX::Application {
  public:
    explicit App(FixBroker *b) : b_(b) {}
    void onCreate(const FIX::SessionID &) override {}
    void onLogon(const FIX::SessionID &) override;
    void onLogout(const FIX::SessionID &) override;
    void toAdmin(FIX::Message &, const FIX::SessionID &) override;
    void toApp(FIX::Message &, const FIX::SessionID &) throw(FIX::DoNotSend) override;
    void fromAdmin(const FIX::Message &, const FIX::SessionID &)
        throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override;
    void fromApp(const FIX::Message &, const FIX::SessionID &)
        throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::UnsupportedMessageType) override;

  private:
    FixBroker *b_;
};

enum class State { STOPPED, CONNECTING, RECONCILING, LOGGED_ON, REFUSED, DISCONNECTED };

class FixBroker {
  public:
    AftmSettings aftm;
    fix_feed feed{};
    broker_callbacks cb{};
    std::unique_ptr<FIX::SessionSettings> settings;
    std::unique_ptr<FIX::FileStoreFactory> store;
    std::unique_ptr<FIX::FileLogFactory> logs;
    std::unique_ptr<App> app;
    std::unique_ptr<FIX::SocketInitiator> initiator;
    FIX::SessionID sid;
    std::string login_id, password;

    /* shared with QuickFIX's thread */
    std::mutex mu;
    std::condition_variable handled_cv;
    std::deque<Event> queue;
    uint64_t next_event = 0, handled = 0;
    bool stopping = false;
    std::map<int, Sent> sent; /* our MsgSeqNum -> what it carried (for 3 and j) */
    int wake[2] = {-1, -1};

    /* the caller's thread only */
    State state = State::STOPPED;
    std::string state_text = "not started", refusal;
    std::map<std::string, Order> orders;
    std::vector<std::string> order_seq; /* journal order */
    std::map<std::string, price_t> last_price;
    FILE *journal = nullptr;
    bool replay_pending = false;
    int64_t reconcile_deadline = 0; /* mono ms; 0 = none */
    bool status_unsupported = false; /* the counterparty rejected an OrderStatusRequest */
    uint64_t cancel_n = 0;

    ~FixBroker() { shutdown(); }

    void shutdown() {
        if (initiator) {
            {
                std::lock_guard<std::mutex> l(mu);
                stopping = true;
            }
            handled_cv.notify_all();
            try {
                initiator->stop();
            } catch (...) {
            }
            initiator.reset();
        }
        if (journal) {
            fputs("C\n", journal); /* a clean stop: every report was handed over */
            fclose(journal);
            journal = nullptr;
        }
        if (wake[0] >= 0) close(wake[0]), close(wake[1]);
        wake[0] = wake[1] = -1;
    }

    /* ---- from QuickFIX's thread ---- */

    uint64_t push(Event::Kind k, const FIX::Message *m, const std::string &text) {
        uint64_t id;
        {
            std::lock_guard<std::mutex> l(mu);
            Event e;
            e.kind = k;
            if (m) e.msg = *m;
            e.text = text;
            e.id = id = ++next_event;
            queue.push_back(std::move(e));
        }
        char c = 1;
        if (write(wake[1], &c, 1) < 0) { /* the pipe is full: the loop is awake anyway */
        }
        return id;
    }

    /* Waits until the caller's thread has handled event id (or a bound passes: the caller may
     * be busy; the message is still handled, only later). */
    void wait_handled(uint64_t id) {
        std::unique_lock<std::mutex> l(mu);
        handled_cv.wait_for(l, std::chrono::seconds(5), [&] { return stopping || handled >= id; });
    }

    void note_sent(FIX::Message &m) {
        FIX::MsgSeqNum seq;
        FIX::MsgType type;
        if (!m.getHeader().getFieldIfSet(seq) || !m.getHeader().getFieldIfSet(type)) return;
        FIX::ClOrdID cid;
        m.getFieldIfSet(cid);
        std::lock_guard<std::mutex> l(mu);
        sent[seq.getValue()] = Sent{type.getValue(), cid.getValue()};
        while (sent.size() > 100000) sent.erase(sent.begin());
    }

    /* ---- journal ---- */

    void journal_order(const Order &o) {
        if (!journal) return;
        fprintf(journal, "O\t%s\t%s\t%s\t%s\t%lld\t%d\t%lld\t%d\n", clean(o.req.client_order_id).c_str(),
                clean(o.req.account).c_str(), clean(o.req.symbol).c_str(), side_code(o.req.side),
                (long long)o.req.qty, (int)o.req.type, (long long)o.req.price, (int)o.req.tif);
        fflush(journal);
        fsync(fileno(journal)); /* before the order leaves: a restart must know it was sent */
    }

    void journal_report(const Order &o, const broker_report &r) {
        if (!journal) return;
        fprintf(journal, "R\t%s\t%d\t%s\t%lld\t%lld\t%lld\t%lld\t%s\t%s\n", clean(o.req.client_order_id).c_str(),
                (int)r.status, clean(r.fill_id).c_str(), (long long)r.fill_qty, (long long)r.fill_price,
                (long long)o.cum, (long long)o.notional, clean(o.order_id).c_str(), clean(o.reason).c_str());
        fflush(journal);
    }

    bool load_journal(std::string *err) {
        if (aftm.journal.empty()) return true;
        FILE *f = fopen(aftm.journal.c_str(), "r");
        bool clean_stop = true;
        if (f) {
            char *line = nullptr;
            size_t cap = 0;
            ssize_t n;
            while ((n = getline(&line, &cap, f)) > 0) {
                std::vector<std::string> p;
                std::string s(line, (size_t)n);
                if (!s.empty() && s.back() == '\n') s.pop_back();
                size_t a = 0;
                for (;;) {
                    size_t t = s.find('\t', a);
                    p.push_back(s.substr(a, t == std::string::npos ? std::string::npos : t - a));
                    if (t == std::string::npos) break;
                    a = t + 1;
                }
                if (p[0] == "B") {
                    clean_stop = false;
                    for (auto &kv : orders) kv.second.touched = false;
                } else if (p[0] == "C") {
                    clean_stop = true;
                } else if (p[0] == "O" && p.size() >= 9) {
                    Order o;
                    copy_str(o.req.client_order_id, p[1]);
                    copy_str(o.req.account, p[2]);
                    copy_str(o.req.symbol, p[3]);
                    o.req.side = p[4] == "B" ? SIDE_BUY : SIDE_SELL;
                    o.req.qty = atoll(p[5].c_str());
                    o.req.type = (broker_order_type)atoi(p[6].c_str());
                    o.req.price = atoll(p[7].c_str());
                    o.req.tif = (broker_tif)atoi(p[8].c_str());
                    o.touched = true;
                    if (!orders.count(p[1])) order_seq.push_back(p[1]);
                    orders[p[1]] = o;
                } else if (p[0] == "R" && p.size() >= 10 && orders.count(p[1])) {
                    Order &o = orders[p[1]];
                    broker_report r = base_report(o);
                    r.status = (broker_status)atoi(p[2].c_str());
                    copy_str(r.fill_id, p[3]);
                    r.fill_qty = atoll(p[4].c_str());
                    r.fill_price = atoll(p[5].c_str());
                    o.status = r.status;
                    o.cum = atoll(p[6].c_str());
                    o.notional = atoll(p[7].c_str());
                    o.order_id = p[8];
                    o.reason = p[9];
                    if (r.fill_id[0]) o.fills.insert(r.fill_id);
                    r.filled_qty = o.cum;
                    r.filled_notional = o.notional;
                    copy_str(r.order_serial, o.order_id);
                    copy_str(r.reason, o.reason);
                    if (r.fill_qty > 0 || is_final(r.status)) o.history.push_back(r);
                    o.touched = true;
                }
            }
            free(line);
            fclose(f);
        } else if (errno != ENOENT) {
            *err = "cannot read the order journal " + aftm.journal + ": " + strerror(errno);
            return false;
        }
        replay_pending = !clean_stop;
        /* Compact: keep every open order and the newest 2000 final ones. */
        std::vector<std::string> keep;
        size_t finals = 0;
        for (auto it = order_seq.rbegin(); it != order_seq.rend(); ++it) {
            const Order &o = orders[*it];
            if (!is_final(o.status) || finals++ < 2000) keep.push_back(*it);
        }
        std::vector<std::string> kept(keep.rbegin(), keep.rend());
        std::string tmp = aftm.journal + ".tmp";
        FILE *w = fopen(tmp.c_str(), "w");
        if (!w) {
            *err = "cannot write the order journal " + tmp + ": " + strerror(errno);
            return false;
        }
        journal = w;
        std::map<std::string, Order> live;
        for (const std::string &id : kept) {
            Order &o = orders[id];
            journal_order(o);
            for (const broker_report &r : o.history) {
                fprintf(journal, "R\t%s\t%d\t%s\t%lld\t%lld\t%lld\t%lld\t%s\t%s\n", clean(id).c_str(), (int)r.status,
                        clean(r.fill_id).c_str(), (long long)r.fill_qty, (long long)r.fill_price,
                        (long long)r.filled_qty, (long long)r.filled_notional, clean(r.order_serial).c_str(),
                        clean(r.reason).c_str());
            }
            if (o.history.empty() && o.status != BROKER_ST_NEW) journal_report(o, state_report(o));
            live[id] = o;
        }
        if (!replay_pending) fputs("C\n", journal);
        fputs("B\n", journal);
        fflush(journal);
        fsync(fileno(journal));
        if (rename(tmp.c_str(), aftm.journal.c_str()) != 0) {
            *err = "cannot replace the order journal " + aftm.journal + ": " + strerror(errno);
            return false;
        }
        orders.swap(live);
        order_seq = kept;
        return true;
    }

    /* ---- reports ---- */

    broker_report base_report(const Order &o) {
        broker_report r{};
        copy_str(r.client_order_id, o.req.client_order_id);
        copy_str(r.order_serial, o.order_id);
        copy_str(r.account, o.req.account);
        copy_str(r.symbol, o.req.symbol);
        r.side = o.req.side;
        r.qty = o.req.qty;
        r.filled_qty = o.cum;
        r.filled_notional = o.notional;
        r.ts_us = clock_wall_us();
        return r;
    }

    broker_report state_report(const Order &o) {
        broker_report r = base_report(o);
        r.status = o.status;
        copy_str(r.reason, o.reason);
        return r;
    }

    /* Journals the report, then hands it over. */
    void emit(Order &o, const broker_report &r) {
        o.touched = true;
        journal_report(o, r);
        if (r.fill_qty > 0 || is_final(r.status)) o.history.push_back(r);
        if (cb.on_report) cb.on_report(cb.ctx, &r);
    }

    void replay() {
        replay_pending = false;
        size_t n = 0;
        for (const std::string &id : order_seq) {
            Order &o = orders[id];
            if (!o.touched) continue;
            for (const broker_report &r : o.history) {
                if (cb.on_report) cb.on_report(cb.ctx, &r);
                n++;
            }
        }
        if (n) log_info("fix: the last run ended without a clean stop; re-sent %zu journaled report(s) (applied once "
                        "by fill id)", n);
    }

    /* ---- connection state ---- */

    void set_state(State s, const std::string &text) {
        state = s;
        state_text = text;
    }

    void start_reconcile() {
        size_t n = 0;
        for (auto &kv : orders) {
            Order &o = kv.second;
            if (is_final(o.status)) continue;
            o.recon_pending = true;
            send_status_request(o);
            n++;
        }
        if (n && !status_unsupported) {
            set_state(State::RECONCILING, "reconciling");
            reconcile_deadline = clock_mono_ms() + aftm.reconcile_timeout_ms;
            log_info("fix: logged on; reconciling %zu open order(s) before new orders go out", n);
        } else {
            for (auto &kv : orders) kv.second.recon_pending = false;
            finish_reconcile(false);
        }
    }

    void check_reconciled() {
        if (state != State::RECONCILING) return;
        for (auto &kv : orders)
            if (kv.second.recon_pending) return;
        finish_reconcile(false);
    }

    void finish_reconcile(bool timed_out) {
        reconcile_deadline = 0;
        if (timed_out) {
            size_t n = 0;
            for (auto &kv : orders)
                if (kv.second.recon_pending) kv.second.recon_pending = false, n++;
            log_warn("fix: %zu order(s) not confirmed by OrderStatusRequest within %lld ms; their state stays as "
                     "journaled (later reports still apply)",
                     n, (long long)aftm.reconcile_timeout_ms);
        }
        set_state(State::LOGGED_ON, "logged on");
        std::string msg = "FIX session " + sid.toString() + " logged on";
        if (cb.on_connection) cb.on_connection(cb.ctx, BROKER_CONNECTED, msg.c_str());
    }

    bool logged_on() const { return state == State::LOGGED_ON || state == State::RECONCILING; }

    /* ---- sending ---- */

    std::string fix_symbol(const std::string &s) {
        auto it = aftm.sym_out.find(s);
        return it == aftm.sym_out.end() ? s : it->second;
    }
    std::string aftm_symbol(const std::string &s) {
        auto it = aftm.sym_in.find(s);
        return it == aftm.sym_in.end() ? s : it->second;
    }

    bool send(FIX::Message &m, std::string *why) {
        try {
            if (FIX::Session::sendToTarget(m, sid)) return true;
            *why = "the FIX session could not write the message now (kept in its store; resent on the next logon)";
        } catch (FIX::SessionNotFound &) {
            *why = "no FIX session " + sid.toString();
        } catch (std::exception &e) {
            *why = e.what();
        }
        return false;
    }

    void send_status_request(Order &o) {
        FIX44::OrderStatusRequest h(FIX::ClOrdID(o.req.client_order_id), FIX::Side(o.req.side == SIDE_BUY ? '1' : '2'));
        h.set(FIX::Symbol(fix_symbol(o.req.symbol)));
        if (!o.order_id.empty()) h.set(FIX::OrderID(o.order_id));
        if (o.req.account[0]) h.set(FIX::Account(o.req.account));
        std::string why;
        if (!send(h, &why)) log_warn("fix: OrderStatusRequest for %s not sent: %s", o.req.client_order_id, why.c_str());
    }

    /* Handles queued events on the caller's thread; true when any was handled. */
    bool pump() {
        char buf[256];
        while (read(wake[0], buf, sizeof buf) > 0) {
        }
        bool any = false;
        for (;;) {
            Event e;
            {
                std::lock_guard<std::mutex> l(mu);
                if (queue.empty()) break;
                e = std::move(queue.front());
                queue.pop_front();
            }
            any = true;
            try {
                handle(e);
            } catch (std::exception &ex) {
                log_warn("fix: a message could not be read: %s", ex.what());
            }
            {
                std::lock_guard<std::mutex> l(mu);
                handled = e.id;
            }
            handled_cv.notify_all();
        }
        return any;
    }

    /* Waits for events up to ms, handling them, until done() says stop. */
    template <class F> void pump_until(int64_t ms, F done) {
        int64_t end = clock_mono_ms() + ms;
        while (!done()) {
            int64_t left = end - clock_mono_ms();
            if (left <= 0) break;
            struct pollfd p = {wake[0], POLLIN, 0};
            poll(&p, 1, (int)left);
            pump();
        }
    }

    void handle(Event &e) {
        switch (e.kind) {
        case Event::LOGON: start_reconcile(); break;
        case Event::REFUSED:
            refusal = e.text;
            set_state(State::REFUSED, "logon refused: " + e.text);
            log_error("fix: logon refused by %s: %s", sid.getTargetCompID().getValue().c_str(), e.text.c_str());
            break;
        case Event::LOGOUT: {
            bool was = logged_on();
            if (state != State::REFUSED) set_state(State::CONNECTING, "connecting (" + (e.text.empty() ? std::string("disconnected") : e.text) + ")");
            reconcile_deadline = 0;
            if (was && cb.on_connection) {
                std::string m = "FIX session " + sid.toString() + " logged out" + (e.text.empty() ? "" : ": " + e.text);
                cb.on_connection(cb.ctx, BROKER_DISCONNECTED, m.c_str());
            }
            break;
        }
        case Event::MSG: handle_msg(e.msg); break;
        }
    }

    Order *order_of(const std::string &cid) {
        auto it = orders.find(cid);
        return it == orders.end() ? nullptr : &it->second;
    }

    void refuse(Order &o, const std::string &why) {
        if (is_final(o.status)) return;
        o.status = BROKER_ST_REJECTED;
        o.reason = why;
        broker_report r = state_report(o);
        emit(o, r);
        log_warn("fix: order %s refused: %s", o.req.client_order_id, why.c_str());
    }

    void handle_msg(const FIX::Message &m) {
        FIX::MsgType type;
        m.getHeader().getField(type);
        const std::string &t = type.getValue();
        if (t == FIX::MsgType_ExecutionReport) return on_exec(m);
        if (t == FIX::MsgType_OrderCancelReject) return on_cancel_reject(m);
        if (t == FIX::MsgType_Reject || t == FIX::MsgType_BusinessMessageReject) return on_reject(m, t);
        log_debug("fix: message type %s ignored", t.c_str());
    }

    void on_reject(const FIX::Message &m, const std::string &t) {
        int ref = (int)num(m, FIX::FIELD::RefSeqNum);
        FIX::Text text;
        m.getFieldIfSet(text);
        Sent s;
        {
            std::lock_guard<std::mutex> l(mu);
            auto it = sent.find(ref);
            if (it != sent.end()) s = it->second;
        }
        std::string kind = t == FIX::MsgType_Reject ? "session Reject" : "BusinessMessageReject";
        std::string why = kind + (text.getValue().empty() ? "" : ": " + text.getValue());
        Order *o = s.clordid.empty() ? nullptr : order_of(s.clordid);
        if (s.type == FIX::MsgType_NewOrderSingle && o) {
            refuse(*o, why);
        } else if (s.type == FIX::MsgType_OrderStatusRequest) {
            if (!status_unsupported)
                log_warn("fix: the counterparty refused an OrderStatusRequest (%s); open orders are settled by its "
                         "reports only",
                         why.c_str());
            status_unsupported = true;
            for (auto &kv : orders) kv.second.recon_pending = false;
            check_reconciled();
        } else if (s.type == FIX::MsgType_OrderCancelRequest) {
            std::string orig = s.clordid.substr(0, s.clordid.rfind("-C"));
            Order *oo = order_of(orig);
            if (oo) oo->reason = "cancel refused: " + why;
            log_warn("fix: cancel of %s refused: %s", orig.c_str(), why.c_str());
        } else {
            log_warn("fix: %s for our message %d (%s): %s", kind.c_str(), ref, s.type.c_str(), why.c_str());
        }
    }

    void on_cancel_reject(const FIX::Message &m) {
        FIX::OrigClOrdID orig;
        FIX::Text text;
        m.getFieldIfSet(orig);
        m.getFieldIfSet(text);
        Order *o = order_of(orig.getValue());
        std::string why = "cancel refused: " + (text.getValue().empty() ? std::string("no reason given") : text.getValue());
        if (o && !is_final(o->status)) o->reason = why;
        log_warn("fix: order %s: %s", orig.getValue().c_str(), why.c_str());
    }

    static broker_status status_of(char ord_status, broker_status keep) {
        switch (ord_status) {
        case FIX::OrdStatus_NEW: return BROKER_ST_ACCEPTED;
        case FIX::OrdStatus_PARTIALLY_FILLED: return BROKER_ST_PARTIALLY_FILLED;
        case FIX::OrdStatus_FILLED: return BROKER_ST_FILLED;
        case FIX::OrdStatus_CANCELED: return BROKER_ST_CANCELLED;
        case FIX::OrdStatus_REJECTED: return BROKER_ST_REJECTED;
        case FIX::OrdStatus_EXPIRED:
        case FIX::OrdStatus_DONE_FOR_DAY: return BROKER_ST_EXPIRED;
        default: return keep;
        }
    }

    static double num(const FIX::Message &m, int tag) {
        if (!m.isSetField(tag)) return 0;
        try {
            return FIX::DoubleConvertor::convert(m.getField(tag));
        } catch (std::exception &) {
            return 0;
        }
    }
    static char num_char(const FIX::Message &m, int tag) {
        if (!m.isSetField(tag)) return '\0';
        const std::string &v = m.getField(tag);
        return v.empty() ? '\0' : v[0];
    }

    static price_t to_price(double px) { return (price_t)llround(px); }

    void on_exec(const FIX::Message &m) {
        /* Fields a report may leave out read as 0 / "" (a FIX field object left unset would
         * throw when read as a number). */
        FIX::ClOrdID cid;
        FIX::OrigClOrdID orig;
        FIX::ExecID execid;
        FIX::OrderID oid;
        FIX::Text text;
        m.getFieldIfSet(cid);
        m.getFieldIfSet(orig);
        m.getFieldIfSet(execid);
        m.getFieldIfSet(oid);
        m.getFieldIfSet(text);
        FIX::ExecType et(num_char(m, FIX::FIELD::ExecType));
        FIX::OrdStatus ost(num_char(m, FIX::FIELD::OrdStatus));
        FIX::LastQty lastqty(num(m, FIX::FIELD::LastQty));
        FIX::LastPx lastpx(num(m, FIX::FIELD::LastPx));
        FIX::CumQty cumqty(num(m, FIX::FIELD::CumQty));
        FIX::AvgPx avgpx(num(m, FIX::FIELD::AvgPx));
        /* a cancel's report names the cancel request in ClOrdID and the order in OrigClOrdID */
        std::string key = cid.getValue();
        if (!orig.getValue().empty() && order_of(orig.getValue())) key = orig.getValue();
        Order *o = order_of(key);
        if (!o) {
            if (key.empty()) {
                log_warn("fix: ExecutionReport without ClOrdID ignored");
                return;
            }
            /* an order this gateway did not send (placed elsewhere on the account): booked */
            Order n;
            copy_str(n.req.client_order_id, key);
            FIX::Account acc;
            FIX::Symbol sym;
            FIX::OrderQty qty(num(m, FIX::FIELD::OrderQty));
            FIX::Side side(num_char(m, FIX::FIELD::Side));
            m.getFieldIfSet(acc);
            m.getFieldIfSet(sym);
            copy_str(n.req.account, acc.getValue());
            copy_str(n.req.symbol, aftm_symbol(sym.getValue()));
            n.req.side = side.getValue() == FIX::Side_SELL ? SIDE_SELL : SIDE_BUY;
            n.req.qty = (int64_t)llround(qty.getValue());
            n.req.type = BROKER_LIMIT;
            log_warn("fix: report for order %s, unknown to this gateway: booked as an external order", key.c_str());
            orders[key] = n;
            order_seq.push_back(key);
            o = &orders[key];
            journal_order(*o);
        }
        if (!oid.getValue().empty() && oid.getValue() != "NONE") o->order_id = oid.getValue();
        char exec_type = et.getValue();
        int64_t cum = (int64_t)llround(cumqty.getValue());

        if (exec_type == FIX::ExecType_ORDER_STATUS) { /* the answer to our OrderStatusRequest */
            bool was_pending = o->recon_pending;
            o->recon_pending = false;
            if (cum > o->cum) {
                /* fills we never saw a report for: booked under an id made of the cumulative */
                int64_t q = cum - o->cum;
                int64_t notional = (int64_t)llround(avgpx.getValue() * (double)cum);
                broker_report r = base_report(*o);
                r.fill_qty = q;
                r.fill_price = (price_t)llround((double)(notional - o->notional) / (double)q);
                copy_str(r.fill_id, std::string(o->req.client_order_id) + "/cum" + std::to_string(cum));
                o->cum = cum;
                o->notional = notional;
                o->fills.insert(r.fill_id);
                o->status = status_of(ost.getValue(), cum >= o->req.qty ? BROKER_ST_FILLED : BROKER_ST_PARTIALLY_FILLED);
                r.status = o->status;
                r.filled_qty = o->cum;
                r.filled_notional = o->notional;
                copy_str(r.order_serial, o->order_id);
                log_warn("fix: reconciliation found %lld lot(s) of %s filled without a report; booked", (long long)q,
                         o->req.client_order_id);
                emit(*o, r);
            } else {
                broker_status st = status_of(ost.getValue(), o->status);
                if (st != o->status && !is_final(o->status)) {
                    o->status = st;
                    if (is_final(st)) o->reason = text.getValue().empty() ? "reported by order status" : text.getValue();
                    emit(*o, state_report(*o));
                }
            }
            if (was_pending) check_reconciled();
            return;
        }

        if (lastqty.getValue() > 0 && (exec_type == FIX::ExecType_TRADE || exec_type == FIX::ExecType_FILL ||
                                       exec_type == FIX::ExecType_PARTIAL_FILL)) {
            std::string fid = std::string(o->req.client_order_id) + "/" + execid.getValue();
            if (o->fills.count(fid)) {
                log_info("fix: report %s for %s seen before (resent or PossDup): applied once", execid.getValue().c_str(),
                         o->req.client_order_id);
                return;
            }
            int64_t q = (int64_t)llround(lastqty.getValue());
            price_t px = to_price(lastpx.getValue());
            o->fills.insert(fid);
            o->cum += q;
            o->notional += q * px;
            broker_status st = status_of(ost.getValue(), BROKER_ST_PARTIALLY_FILLED);
            if (o->cum >= o->req.qty) st = BROKER_ST_FILLED;
            else if (st == BROKER_ST_FILLED || st == BROKER_ST_ACCEPTED) st = BROKER_ST_PARTIALLY_FILLED;
            if (!is_final(o->status) || o->status == BROKER_ST_FILLED) o->status = st;
            broker_report r = base_report(*o);
            copy_str(r.fill_id, fid);
            r.fill_qty = q;
            r.fill_price = px;
            r.status = st;
            emit(*o, r);
            return;
        }
        /* a report of the same state twice (resent, PossDup) changes nothing */
        std::string eid = std::string(o->req.client_order_id) + "/" + execid.getValue();
        if (!execid.getValue().empty() && o->fills.count(eid)) return;
        if (!execid.getValue().empty()) o->fills.insert(eid);
        broker_status st = o->status;
        switch (exec_type) {
        case FIX::ExecType_NEW: st = BROKER_ST_ACCEPTED; break;
        case FIX::ExecType_CANCELED: st = BROKER_ST_CANCELLED; break;
        case FIX::ExecType_REJECTED: st = BROKER_ST_REJECTED; break;
        case FIX::ExecType_EXPIRED:
        case FIX::ExecType_DONE_FOR_DAY: st = BROKER_ST_EXPIRED; break;
        default: return; /* pending new / pending cancel / replaced...: no change aftm tracks */
        }
        if (is_final(o->status) || (st == BROKER_ST_ACCEPTED && o->status != BROKER_ST_NEW)) return;
        o->status = st;
        if (is_final(st))
            o->reason = text.getValue().empty() ? std::string(broker_status_name(st)) + " by the counterparty" : text.getValue();
        emit(*o, state_report(*o));
    }

    /* ---- the broker operations ---- */

    bool send_order(const broker_order_req *req, broker_send_result *res) {
        memset(res, 0, sizeof *res);
        copy_str(res->client_order_id, req->client_order_id);
        snprintf(res->note, sizeof res->note, "%s", req->note);
        res->status = BROKER_ST_REJECTED;
        auto refuse_now = [&](const char *code, const std::string &why) {
            snprintf(res->error_code, sizeof res->error_code, "%s", code);
            copy_str(res->error_message, why);
            return false;
        };
        pump();
        if (state == State::RECONCILING) pump_until(reconcile_deadline - clock_mono_ms(), [&] { return state != State::RECONCILING; });
        if (state == State::RECONCILING) finish_reconcile(true);
        if (!req->client_order_id[0]) return refuse_now("FIX_NO_ID", "a FIX order needs a client order id");
        if (Order *o = order_of(req->client_order_id)) {
            res->duplicate = true;
            res->is_send_order = o->status != BROKER_ST_REJECTED;
            res->status = o->status;
            copy_str(res->order_serial, o->order_id);
            snprintf(res->error_code, sizeof res->error_code, "0");
            return res->is_send_order;
        }
        if (!logged_on()) return refuse_now("BROKER_DISCONNECTED", "FIX session not logged on (" + state_text + ")");
        if (req->qty <= 0) return refuse_now("BAD_QTY", "quantity must be positive");
        Order o;
        o.req = *req;
        if (!o.req.account[0] && !aftm.accounts.empty()) copy_str(o.req.account, aftm.accounts[0]);
        char ord_type = FIX::OrdType_LIMIT, tif;
        switch (req->tif) {
        case BROKER_IOC: tif = FIX::TimeInForce_IMMEDIATE_OR_CANCEL; break;
        case BROKER_FOK: tif = FIX::TimeInForce_FILL_OR_KILL; break;
        default: tif = FIX::TimeInForce_DAY; break;
        }
        price_t px = req->price;
        if (req->type != BROKER_LIMIT) {
            if (aftm.market_as_limit) {
                auto it = last_price.find(req->symbol);
                if (it == last_price.end())
                    return refuse_now("NO_PRICE", std::string("no last price of ") + req->symbol +
                                                      " yet to make the marketable limit this venue needs");
                int64_t off = aftm.limit_ticks * aftm.tick_size;
                px = req->side == SIDE_BUY ? it->second + off : it->second - off;
                if (px <= 0) px = aftm.tick_size;
                tif = aftm.market_tif;
                o.req.price = px;
            } else {
                ord_type = FIX::OrdType_MARKET;
            }
        }
        FIX44::NewOrderSingle d(FIX::ClOrdID(req->client_order_id), FIX::Side(req->side == SIDE_BUY ? '1' : '2'),
                                FIX::TransactTime(), FIX::OrdType(ord_type));
        d.set(FIX::Symbol(fix_symbol(req->symbol)));
        d.set(FIX::OrderQty((double)req->qty));
        d.set(FIX::TimeInForce(tif));
        if (ord_type == FIX::OrdType_LIMIT) d.set(FIX::Price((double)px));
        if (o.req.account[0]) d.set(FIX::Account(o.req.account));
        if (req->open_close == BROKER_OPEN) d.set(FIX::PositionEffect(FIX::PositionEffect_OPEN));
        else if (req->open_close == BROKER_CLOSE) d.set(FIX::PositionEffect(FIX::PositionEffect_CLOSE));
        orders[req->client_order_id] = o;
        order_seq.push_back(req->client_order_id);
        journal_order(o); /* before it leaves */
        std::string why;
        if (!send(d, &why)) {
            /* QuickFIX stored it with its sequence number: it goes out on resend, or the
             * counterparty gap-fills it; either way the next reports or reconciliation say */
            res->unknown = true;
            log_warn("fix: order %s: %s", req->client_order_id, why.c_str());
        }
        res->is_send_order = true;
        res->status = BROKER_ST_NEW;
        snprintf(res->error_code, sizeof res->error_code, "0");
        return true;
    }

    bool cancel_order(const char *cid, char *err, size_t errlen) {
        pump();
        Order *o = order_of(cid);
        if (!o) return set_err(err, errlen, std::string("unknown order ") + cid), false;
        if (is_final(o->status))
            return set_err(err, errlen, std::string("order ") + cid + " is " + broker_status_name(o->status)), false;
        if (!logged_on()) return set_err(err, errlen, "FIX session not logged on (" + state_text + ")"), false;
        std::string ccid = std::string(cid) + "-C" + std::to_string(++cancel_n);
        FIX44::OrderCancelRequest f(FIX::OrigClOrdID(cid), FIX::ClOrdID(ccid), FIX::Side(o->req.side == SIDE_BUY ? '1' : '2'),
                                    FIX::TransactTime());
        f.set(FIX::Symbol(fix_symbol(o->req.symbol)));
        f.set(FIX::OrderQty((double)o->req.qty));
        if (!o->order_id.empty()) f.set(FIX::OrderID(o->order_id));
        if (o->req.account[0]) f.set(FIX::Account(o->req.account));
        std::string why;
        if (!send(f, &why)) return set_err(err, errlen, why), false;
        return true;
    }

    bool order_status(const char *cid, broker_order_info *out) {
        pump();
        Order *o = order_of(cid);
        if (!o) {
            for (auto &kv : orders)
                if (!kv.second.order_id.empty() && kv.second.order_id == cid) o = &kv.second;
            if (!o) return false; /* every order this gateway sent is journaled before it leaves */
        }
        if (!is_final(o->status) && logged_on() && !status_unsupported) {
            std::string key = o->req.client_order_id;
            o->recon_pending = true;
            send_status_request(*o);
            pump_until(aftm.status_timeout_ms, [&] {
                Order *p = order_of(key);
                return !p || !p->recon_pending || status_unsupported;
            });
            o = order_of(key);
            o->recon_pending = false;
        }
        memset(out, 0, sizeof *out);
        copy_str(out->client_order_id, o->req.client_order_id);
        copy_str(out->order_serial, o->order_id);
        copy_str(out->account, o->req.account);
        copy_str(out->symbol, o->req.symbol);
        out->side = o->req.side;
        out->qty = o->req.qty;
        out->type = o->req.type;
        out->price = o->req.price;
        out->tif = o->req.tif;
        out->status = o->status;
        out->filled_qty = o->cum;
        out->filled_notional = o->notional;
        copy_str(out->reason, o->reason);
        return true;
    }

    long query_positions(const char *account, broker_position *out, size_t cap, char *err, size_t errlen) {
        pump();
        struct Acc {
            int64_t buy = 0, sell = 0, buy_notional = 0, sell_notional = 0, ord_buy = 0, ord_sell = 0;
        };
        std::map<std::string, Acc> by_symbol;
        bool known = aftm.accounts.empty();
        for (const std::string &a : aftm.accounts) known = known || a == account;
        if (!known) return set_err(err, errlen, std::string("unknown account ") + account), -1;
        for (auto &kv : orders) {
            const Order &o = kv.second;
            if (strcmp(o.req.account, account) != 0) continue;
            Acc &a = by_symbol[o.req.symbol];
            if (o.req.side == SIDE_BUY) a.buy += o.cum, a.buy_notional += o.notional, a.ord_buy += o.req.qty;
            else a.sell += o.cum, a.sell_notional += o.notional, a.ord_sell += o.req.qty;
        }
        size_t n = 0;
        for (auto &kv : by_symbol) {
            if (n < cap) {
                broker_position &p = out[n];
                memset(&p, 0, sizeof p);
                snprintf(p.account, sizeof p.account, "%s", account);
                copy_str(p.symbol, kv.first);
                const Acc &a = kv.second;
                p.net_qty = a.buy - a.sell;
                p.current_long = p.net_qty > 0 ? p.net_qty : 0;
                p.current_short = p.net_qty < 0 ? -p.net_qty : 0;
                p.today_filled_long = a.buy;
                p.today_filled_short = a.sell;
                p.today_order_long = a.ord_buy;
                p.today_order_short = a.ord_sell;
                p.today_closed = a.buy < a.sell ? a.buy : a.sell;
                if (p.net_qty > 0 && a.buy) p.avg_cost = (double)a.buy_notional / (double)a.buy;
                else if (p.net_qty < 0 && a.sell) p.avg_cost = (double)a.sell_notional / (double)a.sell;
                auto lp = last_price.find(kv.first);
                p.reference_price = lp == last_price.end() ? 0 : lp->second;
            }
            n++;
        }
        return (long)n;
    }

    int64_t next_timeout_ms() {
        int64_t t = feed.next ? feed.due_in_ms(feed.ctx) : -1;
        if (reconcile_deadline) {
            int64_t r = reconcile_deadline - clock_mono_ms();
            if (r < 0) r = 0;
            if (t < 0 || r < t) t = r;
        }
        return t;
    }

    void service() {
        if (replay_pending) replay();
        pump();
        if (reconcile_deadline && clock_mono_ms() >= reconcile_deadline && state == State::RECONCILING)
            finish_reconcile(true);
        if (!feed.next) return;
        broker_tick t;
        for (int k = 0; k < 10000; k++) {
            int r = feed.next(feed.ctx, &t);
            if (r <= 0) break;
            last_price[t.symbol] = t.price;
            if (cb.on_tick) cb.on_tick(cb.ctx, &t);
        }
    }
};

void App::onLogon(const FIX::SessionID &) { b_->push(Event::LOGON, nullptr, ""); }
void App::onLogout(const FIX::SessionID &) { b_->push(Event::LOGOUT, nullptr, ""); }

void App::toAdmin(FIX::Message &m, const FIX::SessionID &) {
    FIX::MsgType t;
    m.getHeader().getFieldIfSet(t);
    if (t.getValue() == FIX::MsgType_Logon && !b_->password.empty()) {
        m.setField(FIX::Username(b_->login_id));
        m.setField(FIX::Password(b_->password));
    }
}

void App::toApp(FIX::Message &m, const FIX::SessionID &) throw(FIX::DoNotSend) { b_->note_sent(m); }

void App::fromAdmin(const FIX::Message &m, const FIX::SessionID &sid)
    throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) {
    FIX::MsgType t;
    m.getHeader().getFieldIfSet(t);
    if (t.getValue() == FIX::MsgType_Logout) {
        FIX::Text text;
        m.getFieldIfSet(text);
        FIX::Session *s = FIX::Session::lookupSession(sid);
        /* a Logout before we were logged on answers our Logon: a refusal, with its reason */
        if (s && !s->isLoggedOn()) b_->push(Event::REFUSED, nullptr, text.getValue().empty() ? "no reason given" : text.getValue());
        else if (!text.getValue().empty()) b_->push(Event::LOGOUT, nullptr, text.getValue());
    } else if (t.getValue() == FIX::MsgType_Reject) {
        b_->wait_handled(b_->push(Event::MSG, &m, ""));
    }
}

void App::fromApp(const FIX::Message &m, const FIX::SessionID &)
    throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::UnsupportedMessageType) {
    b_->wait_handled(b_->push(Event::MSG, &m, ""));
}

/* ---- the C table ---- */

FixBroker *self_of(void *p) { return static_cast<FixBroker *>(p); }

void op_set_callbacks(void *self, const broker_callbacks *cb) {
    self_of(self)->cb = cb ? *cb : broker_callbacks{};
}

bool op_login(void *self, const char *id, const char *pw, char *err, size_t errlen) {
    FixBroker *b = self_of(self);
    b->login_id = id ? id : "";
    b->password = pw ? pw : "";
    if (b->initiator) return true;
    try {
        b->initiator.reset(b->logs ? new FIX::SocketInitiator(*b->app, *b->store, *b->settings, *b->logs)
                                   : new FIX::SocketInitiator(*b->app, *b->store, *b->settings));
        b->initiator->start();
    } catch (std::exception &e) {
        b->initiator.reset();
        set_err(err, errlen, std::string("cannot start the FIX initiator: ") + e.what());
        return false;
    }
    b->set_state(State::CONNECTING, "connecting");
    log_info("fix: initiator started for %s (logs on in the background)", b->sid.toString().c_str());
    return true;
}

void op_logout(void *self) {
    FixBroker *b = self_of(self);
    b->pump();
    b->shutdown();
    b->set_state(State::STOPPED, "stopped");
}

bool op_is_connected(void *self) {
    FixBroker *b = self_of(self);
    b->pump();
    return b->logged_on();
}

size_t op_list_accounts(void *self, broker_account *out, size_t cap) {
    FixBroker *b = self_of(self);
    for (size_t i = 0; i < b->aftm.accounts.size() && i < cap; i++) {
        memset(&out[i], 0, sizeof out[i]);
        copy_str(out[i].account, b->aftm.accounts[i]);
        copy_str(out[i].name, "FIX " + b->sid.getTargetCompID().getValue());
    }
    return b->aftm.accounts.size();
}

size_t op_list_products(void *self, broker_product *out, size_t cap) {
    FixBroker *b = self_of(self);
    size_t n = 0;
    for (auto &kv : b->aftm.sym_out) {
        if (n < cap) {
            memset(&out[n], 0, sizeof out[n]);
            copy_str(out[n].code, kv.first);
            copy_str(out[n].name, kv.second);
            copy_str(out[n].market, b->sid.getTargetCompID().getValue());
            auto lp = b->last_price.find(kv.first);
            if (lp != b->last_price.end()) out[n].reference_price = lp->second;
        }
        n++;
    }
    return n;
}

bool op_subscribe(void *, const char *, char *, size_t) { return true; /* ticks come from the feed */ }

bool op_send_order(void *self, const broker_order_req *req, broker_send_result *res) {
    return self_of(self)->send_order(req, res);
}
bool op_cancel_order(void *self, const char *cid, char *err, size_t errlen) {
    return self_of(self)->cancel_order(cid, err, errlen);
}
bool op_order_status(void *self, const char *cid, broker_order_info *out) { return self_of(self)->order_status(cid, out); }
long op_query_positions(void *self, const char *account, broker_position *out, size_t cap, char *err, size_t errlen) {
    return self_of(self)->query_positions(account, out, cap, err, errlen);
}
int op_poll_fd(void *self) { return self_of(self)->wake[0]; }
int64_t op_next_timeout_ms(void *self) { return self_of(self)->next_timeout_ms(); }
void op_service(void *self) { self_of(self)->service(); }
void op_destroy(void *self) { delete self_of(self); }

const broker_ops FIX_OPS = {
    "fix", op_set_callbacks, op_login, op_logout, op_is_connected, op_list_accounts, op_list_products, op_subscribe,
    op_send_order, op_cancel_order, op_order_status, op_query_positions, op_poll_fd, op_next_timeout_ms, op_service,
    op_destroy, nullptr, nullptr, nullptr, nullptr,
};

bool read_file(const char *path, std::string *out, std::string *err) {
    FILE *f = fopen(path, "r");
    if (!f) {
        *err = std::string("cannot read ") + path + ": " + strerror(errno);
        return false;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
    fclose(f);
    return true;
}

bool build_settings(const std::string &text, const std::string &home, FixBroker *b, std::string *err) {
    std::string qf;
    if (!split_settings(text, home, &qf, &b->aftm, err)) return false;
    try {
        std::istringstream in(qf);
        b->settings.reset(new FIX::SessionSettings(in));
    } catch (std::exception &e) {
        *err = std::string("QuickFIX settings: ") + e.what();
        return false;
    }
    std::set<FIX::SessionID> ids = b->settings->getSessions();
    if (ids.size() != 1) {
        *err = "the settings must define exactly one [SESSION] (found " + std::to_string(ids.size()) + ")";
        return false;
    }
    b->sid = *ids.begin();
    if (b->sid.getBeginString().getValue() != FIX::BeginString_FIX44) {
        *err = "BeginString must be FIX.4.4, got " + b->sid.getBeginString().getValue();
        return false;
    }
    const FIX::Dictionary &d = b->settings->get(b->sid);
    if (!d.has("ConnectionType") || d.getString("ConnectionType") != "initiator") {
        *err = "ConnectionType must be initiator (aftm connects to the broker)";
        return false;
    }
    for (const char *k : {"SocketConnectHost", "SocketConnectPort", "HeartBtInt"})
        if (!d.has(k)) {
            *err = std::string("the session needs ") + k;
            return false;
        }
    return true;
}

} /* namespace */

extern "C" bool fix_settings_check(const char *text, char *err, size_t errlen) {
    FixBroker b;
    std::string e;
    if (!build_settings(text ? text : "", "", &b, &e)) return set_err(err, errlen, e), false;
    return true;
}

extern "C" bool fix_broker_new(const fix_broker_config *cfg, broker *out, char *err, size_t errlen) {
    std::unique_ptr<FixBroker> b(new FixBroker);
    std::string text, e;
    std::string home = cfg->home ? cfg->home : "";
    if (!cfg->config_path || !read_file(cfg->config_path, &text, &e) || !build_settings(text, home, b.get(), &e)) {
        if (e.empty()) e = "--fix-config FILE is required";
        set_err(err, errlen, std::string(cfg->config_path ? cfg->config_path : "") + ": " + e);
        return false;
    }
    b->feed = cfg->feed;
    if (pipe2(b->wake, O_NONBLOCK | O_CLOEXEC) != 0) return set_err(err, errlen, strerror(errno)), false;
    try {
        const FIX::Dictionary &d = b->settings->get(b->sid);
        if (d.has("FileStorePath")) mkdir(d.getString("FileStorePath").c_str(), 0700);
        b->store.reset(new FIX::FileStoreFactory(*b->settings));
        if (d.has("FileLogPath")) b->logs.reset(new FIX::FileLogFactory(*b->settings));
    } catch (std::exception &ex) {
        set_err(err, errlen, std::string("QuickFIX store: ") + ex.what());
        return false;
    }
    if (!b->load_journal(&e)) return set_err(err, errlen, e), false;
    b->app.reset(new App(b.get()));
    out->ops = &FIX_OPS;
    out->self = b.release();
    return true;
}

extern "C" const char *fix_broker_state(broker *b) {
    if (!b || !b->ops || strcmp(b->ops->name, "fix") != 0) return "";
    FixBroker *f = self_of(b->self);
    f->pump();
    return f->state_text.c_str();
}
