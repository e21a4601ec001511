/* A FIX 4.4 acceptor on QuickFIX that misbehaves on purpose, for tests/e2e/test_fix_faults.py.
 *
 * What it does with an order depends on its ClOrdID's prefix:
 *   pf-   two partial fills (1 lot, then the rest), the second one sent again as PossDup
 *   dup-  one fill, then the very same report again, then again as PossDup
 *   rj-   rejected (ExecType 8) with a reason
 *   ca-   accepted, no fill; a cancel request cancels it
 *   cr-   accepted, no fill; a cancel request is refused (OrderCancelReject)
 *   gap-  filled, but the report skips one outgoing sequence number (a gap to fill)
 *   drop- the connection is dropped before any answer; the fill is sent after the next logon
 *   sf-   accepted, then filled in its book without any report (a lost report): only an
 *         OrderStatusRequest tells
 *   other accepted and filled at its price
 * OrderStatusRequest (H) is answered from its book (ExecType I). While the file DIR/refuse
 * exists every Logon is refused with a reason. Every fill is appended to DIR/fills.txt
 * (ClOrdID side qty price ExecID), the truth the test compares aftm's books with.
 * This is a test program, not part of aftm. */
#pragma GCC diagnostic ignored "-Wdeprecated"
#include <quickfix/Application.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/fix44/ExecutionReport.h>
#include <quickfix/fix44/OrderCancelReject.h>

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

namespace {

struct Book {
    std::string symbol, account;
    char side = '1';
    double qty = 0, cum = 0, px = 0;
    char status = FIX::OrdStatus_NEW;
    std::string order_id;
};

volatile sig_atomic_t stop_flag = 0;
void on_signal(int) { stop_flag = 1; }

class Faulty : public FIX::Application {
  public:
    explicit Faulty(const std::string &dir) : dir_(dir) {}
    void onCreate(const FIX::SessionID &) override {}
    void onLogon(const FIX::SessionID &sid) override {
        std::lock_guard<std::recursive_mutex> l(mu_);
        for (auto &kv : pending_drop_) fill(sid, kv.first, kv.second, false, false);
        pending_drop_.clear();
    }
    void onLogout(const FIX::SessionID &) override {}
    void toAdmin(FIX::Message &, const FIX::SessionID &) override {}
    void toApp(FIX::Message &, const FIX::SessionID &) throw(FIX::DoNotSend) override {}
    void fromAdmin(const FIX::Message &m, const FIX::SessionID &)
        throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override {
        FIX::MsgType t;
        m.getHeader().getField(t);
        if (t.getValue() == FIX::MsgType_Logon && access((dir_ + "/refuse").c_str(), F_OK) == 0)
            throw FIX::RejectLogon("fault acceptor: logons refused for now");
    }
    void fromApp(const FIX::Message &m, const FIX::SessionID &sid)
        throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::UnsupportedMessageType) override {
        std::lock_guard<std::recursive_mutex> l(mu_);
        FIX::MsgType t;
        m.getHeader().getField(t);
        if (t.getValue() == FIX::MsgType_NewOrderSingle) return on_order(m, sid);
        if (t.getValue() == FIX::MsgType_OrderCancelRequest) return on_cancel(m, sid);
        if (t.getValue() == FIX::MsgType_OrderStatusRequest) return on_status(m, sid);
        throw FIX::UnsupportedMessageType();
    }

  private:
    std::string dir_;
    std::recursive_mutex mu_;
    std::map<std::string, Book> book_;
    std::map<std::string, Book> pending_drop_;
    int next_exec_ = 0, next_order_ = 0;

    static bool starts(const std::string &s, const char *p) { return s.compare(0, strlen(p), p) == 0; }

    FIX44::ExecutionReport report(const std::string &cid, const Book &b, char exec_type, const std::string &exec_id) {
        FIX44::ExecutionReport er(FIX::OrderID(b.order_id), FIX::ExecID(exec_id), FIX::ExecType(exec_type),
                                  FIX::OrdStatus(b.status), FIX::Side(b.side), FIX::LeavesQty(b.qty - b.cum),
                                  FIX::CumQty(b.cum), FIX::AvgPx(b.px));
        er.set(FIX::ClOrdID(cid));
        er.set(FIX::Symbol(b.symbol));
        er.set(FIX::OrderQty(b.qty));
        if (!b.account.empty()) er.set(FIX::Account(b.account));
        return er;
    }

    void send(FIX::Message &m, const FIX::SessionID &sid) {
        try {
            FIX::Session::sendToTarget(m, sid);
        } catch (...) {
        }
    }

    void record(const std::string &cid, const Book &b, double q, const std::string &eid) {
        std::ofstream f(dir_ + "/fills.txt", std::ios::app);
        f << cid << " " << (b.side == '1' ? "buy" : "sell") << " " << q << " " << b.px << " " << eid << "\n";
    }

    /* fills q lots (all that is left when q = 0) and reports it unless silent */
    void fill(const FIX::SessionID &sid, const std::string &cid, Book b, bool silent, bool possdup_again,
              double q = 0) {
        Book &bk = book_[cid] = b;
        if (q <= 0) q = bk.qty - bk.cum;
        bk.cum += q;
        bk.status = bk.cum >= bk.qty ? FIX::OrdStatus_FILLED : FIX::OrdStatus_PARTIALLY_FILLED;
        std::string eid = "E" + std::to_string(++next_exec_);
        record(cid, bk, q, eid);
        if (silent) return;
        FIX44::ExecutionReport er = report(cid, bk, FIX::ExecType_TRADE, eid);
        er.set(FIX::LastQty(q));
        er.set(FIX::LastPx(bk.px));
        send(er, sid);
        if (possdup_again) {
            FIX44::ExecutionReport again = report(cid, bk, FIX::ExecType_TRADE, eid);
            again.set(FIX::LastQty(q));
            again.set(FIX::LastPx(bk.px));
            again.getHeader().setField(FIX::PossDupFlag(true));
            send(again, sid);
        }
    }

    void on_order(const FIX::Message &m, const FIX::SessionID &sid) {
        FIX::ClOrdID cid;
        FIX::Symbol sym;
        FIX::Side side;
        FIX::OrderQty qty;
        FIX::Price px;
        FIX::Account acc;
        m.getField(cid);
        m.getField(sym);
        m.getField(side);
        m.getField(qty);
        m.getFieldIfSet(px);
        m.getFieldIfSet(acc);
        const std::string &id = cid.getValue();
        Book b;
        b.symbol = sym.getValue();
        b.account = acc.getValue();
        b.side = side.getValue();
        b.qty = qty.getValue();
        b.px = px.getValue();
        b.order_id = "O" + std::to_string(++next_order_);
        if (starts(id, "drop-")) {
            pending_drop_[id] = b;
            FIX::Session *s = FIX::Session::lookupSession(sid);
            if (s) s->disconnect();
            return;
        }
        if (starts(id, "rj-")) {
            b.status = FIX::OrdStatus_REJECTED;
            book_[id] = b;
            FIX44::ExecutionReport er = report(id, b, FIX::ExecType_REJECTED, "E" + std::to_string(++next_exec_));
            er.set(FIX::Text("fault acceptor: rejected on purpose"));
            send(er, sid);
            return;
        }
        book_[id] = b;
        if (!starts(id, "gap-") && !starts(id, "dup-")) {
            FIX44::ExecutionReport ack = report(id, b, FIX::ExecType_NEW, "E" + std::to_string(++next_exec_));
            send(ack, sid);
        }
        if (starts(id, "ca-") || starts(id, "cr-")) return;
        if (starts(id, "sf-")) return fill(sid, id, b, true, false);
        if (starts(id, "pf-")) {
            fill(sid, id, b, false, false, 1);
            return fill(sid, id, book_[id], false, true);
        }
        if (starts(id, "dup-")) {
            fill(sid, id, b, false, true);
            const Book &bk = book_[id];
            FIX44::ExecutionReport again = report(id, bk, FIX::ExecType_TRADE, "E" + std::to_string(next_exec_));
            again.set(FIX::LastQty(bk.qty));
            again.set(FIX::LastPx(bk.px));
            send(again, sid); /* the same ExecID, not even marked PossDup */
            return;
        }
        if (starts(id, "gap-")) {
            FIX::Session *s = FIX::Session::lookupSession(sid);
            if (s) s->setNextSenderMsgSeqNum(s->getExpectedSenderNum() + 1);
        }
        fill(sid, id, b, false, false);
    }

    void on_cancel(const FIX::Message &m, const FIX::SessionID &sid) {
        FIX::ClOrdID cid;
        FIX::OrigClOrdID orig;
        m.getField(cid);
        m.getField(orig);
        auto it = book_.find(orig.getValue());
        if (it == book_.end() || starts(orig.getValue(), "cr-") || it->second.status == FIX::OrdStatus_FILLED) {
            FIX44::OrderCancelReject r(FIX::OrderID(it == book_.end() ? "NONE" : it->second.order_id), cid, orig,
                                       FIX::OrdStatus(it == book_.end() ? FIX::OrdStatus_REJECTED : it->second.status),
                                       FIX::CxlRejResponseTo(FIX::CxlRejResponseTo_ORDER_CANCEL_REQUEST));
            r.set(FIX::Text("fault acceptor: too late to cancel"));
            send(r, sid);
            return;
        }
        it->second.status = FIX::OrdStatus_CANCELED;
        FIX44::ExecutionReport er = report(cid.getValue(), it->second, FIX::ExecType_CANCELED,
                                           "E" + std::to_string(++next_exec_));
        er.set(orig);
        send(er, sid);
    }

    void on_status(const FIX::Message &m, const FIX::SessionID &sid) {
        FIX::ClOrdID cid;
        m.getField(cid);
        auto it = book_.find(cid.getValue());
        Book b;
        if (it != book_.end()) b = it->second;
        else b.status = FIX::OrdStatus_REJECTED, b.order_id = "NONE";
        FIX44::ExecutionReport er = report(cid.getValue(), b, FIX::ExecType_ORDER_STATUS,
                                           "S" + std::to_string(++next_exec_));
        if (it == book_.end()) er.set(FIX::Text("unknown order"));
        send(er, sid);
    }
};

} /* namespace */

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: fault_acceptor SETTINGS DIR\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    try {
        FIX::SessionSettings settings(argv[1]);
        Faulty app(argv[2]);
        FIX::FileStoreFactory store(settings);
        FIX::SocketAcceptor acceptor(app, store, settings);
        acceptor.start();
        printf("fault acceptor ready\n");
        fflush(stdout);
        while (!stop_flag) usleep(50000);
        acceptor.stop();
    } catch (std::exception &e) {
        fprintf(stderr, "fault acceptor: %s\n", e.what());
        return 1;
    }
    return 0;
}
