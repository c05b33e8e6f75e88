//! Judging raw requests ([`Request::Raw`]): the answer's envelope first (property `Wire`),
//! then what the Kinesis front end makes of the bytes. A request the front end refuses must
//! get the front end's error and change nothing; one it accepts is judged exactly as the
//! typed request it decodes to, with the answer read back through the same wire format.

use super::{Adopted, ExpectedError, Model, Property, Unrepresentable, Violation, Window};
use crate::api::{Outcome, RawReply, RawRequest, Reply, Request};
use crate::types::KinesisError;
use crate::wire::{self, Decoded};

impl Model {
    pub(super) fn raw(
        &mut self,
        req: &RawRequest,
        observed: Option<&Outcome>,
        w: Window,
    ) -> Result<Outcome, Violation> {
        let op = format!("raw {}", req.operation());
        let reply = match observed {
            None => None,
            Some(Ok(Reply::Raw(reply))) => Some(reply),
            Some(Err(e)) if e.kind.is_unknown_outcome() => return Ok(Err(e.clone())),
            Some(Err(e)) => {
                return Err(Violation::new(
                    Property::Wire,
                    format!("{op}: no HTTP answer: {e}"),
                ));
            }
            Some(Ok(other)) => {
                return Err(Violation::new(
                    Property::Format,
                    format!("{op} answered with {other:?}"),
                ));
            }
        };
        if let Some(reply) = reply.filter(|_| !self.envelope_excused) {
            self.judged(Property::Wire);
            let problems = wire::envelope_violations(reply);
            if !problems.is_empty() {
                return Err(Violation::new(
                    Property::Wire,
                    format!("{op}: {}", problems.join("; ")),
                ));
            }
        }
        let decoded = match wire::decode_request(&req.target, &req.body) {
            Ok(decoded) => decoded,
            Err(rejection) => {
                let expected = ExpectedError::any_of(rejection.error, &rejection.also);
                return self.refused(expected, reply, &op);
            }
        };
        if let Some(expected) = self.foreign_arn(&decoded) {
            return self.refused(expected, reply, &op);
        }
        let typed = reply.map(|r| wire::decode_reply(&decoded.request, r));
        let outcome = self.step(&decoded.request, typed.as_ref(), w)?;
        if let (Some(reply), Request::DescribeStreamSummary(s), Ok(_)) =
            (reply, &decoded.request, &outcome)
        {
            self.learn_arn(&s.stream_name, reply)?;
        }
        Ok(Ok(Reply::Raw(match reply {
            Some(reply) => reply.clone(),
            None => self.encode(&outcome),
        })))
    }

    /// Like [`Model::observe`], with the envelope rules of a raw answer excused: for an answer
    /// whose envelope breaks a recorded divergence, so that what the answer says is still
    /// judged.
    pub fn observe_excusing_envelope(
        &mut self,
        request: &Request,
        outcome: &Outcome,
        window: Window,
    ) -> Result<(), Violation> {
        self.envelope_excused = true;
        let verdict = self.observe(request, outcome, window);
        self.envelope_excused = false;
        verdict
    }

    /// Follows what a divergent answer to a raw request observably did (see
    /// [`Model::adopt`]): an error changes nothing; an accepted request the front end reads
    /// is followed as the typed request it decodes to; an accepted request the front end
    /// must refuse cannot be followed, since what it stored is unknown.
    pub(super) fn adopt_raw(
        &mut self,
        req: &RawRequest,
        outcome: &Outcome,
        w: Window,
    ) -> Result<Adopted, Unrepresentable> {
        let read_only = Request::Raw(req.clone()).is_read_only();
        let unrepresentable = |reason: String| Unrepresentable {
            operation: "Raw",
            reason,
        };
        let reply = match outcome {
            Ok(Reply::Raw(reply)) => reply,
            Err(e) if e.kind.is_unknown_outcome() && !read_only => {
                return Err(unrepresentable(format!(
                    "raw {} had an unknown outcome ({e})",
                    req.operation()
                )));
            }
            _ => return Ok(Adopted::unchanged()),
        };
        if !(200..300).contains(&reply.status) || read_only {
            return Ok(Adopted::unchanged());
        }
        let decoded = wire::decode_request(&req.target, &req.body).or_else(|rejection| {
            lenient_reading(req).ok_or_else(|| {
                unrepresentable(format!(
                    "raw {} was accepted although Kinesis refuses it ({}); what it stored is \
                     unknown",
                    req.operation(),
                    rejection.error.kind
                ))
            })
        })?;
        let typed = wire::decode_reply(&decoded.request, reply);
        self.adopt(&decoded.request, &typed, w)
    }

    /// Judges the answer to a request that must fail with `expected`; nothing changes.
    fn refused(
        &mut self,
        expected: ExpectedError,
        reply: Option<&RawReply>,
        op: &str,
    ) -> Result<Outcome, Violation> {
        let typed: Option<Result<(), KinesisError>> = reply.map(|r| {
            if (200..300).contains(&r.status) {
                Ok(())
            } else {
                Err(wire::decode_error(r))
            }
        });
        let verdict = self.expect_error(expected, typed.as_ref(), op)?;
        Ok(Ok(Reply::Raw(match reply {
            Some(reply) => reply.clone(),
            None => self.encode(&verdict.map(|()| Reply::Done)),
        })))
    }

    /// A `StreamARN` that is not the ARN the stream was seen to have (another account or
    /// region, or a stream of that name elsewhere) names no stream of this account.
    fn foreign_arn(&self, decoded: &Decoded) -> Option<ExpectedError> {
        let arn = decoded.addressing.stream_arn.as_deref()?;
        let name = wire::parse_stream_arn(arn).ok()?;
        let known = self.stream_arns.get(&name)?;
        (known != arn).then(|| {
            ExpectedError::exactly(KinesisError::not_found(format!(
                "{arn} is not the ARN of stream {name} ({known})"
            )))
        })
    }

    /// Remembers the ARN a raw summary reports, after checking it names the stream.
    fn learn_arn(&mut self, stream: &str, reply: &RawReply) -> Result<(), Violation> {
        self.judged(Property::Listing);
        let arn = serde_json::from_str::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| {
                v.get("StreamDescriptionSummary")?
                    .get("StreamARN")?
                    .as_str()
                    .map(str::to_owned)
            });
        let Some(arn) = arn else {
            return Err(Violation::new(
                Property::Listing,
                format!("DescribeStreamSummary of {stream} reports no StreamARN"),
            ));
        };
        match wire::parse_stream_arn(&arn) {
            Ok(name) if name == stream => {
                self.stream_arns.insert(name, arn);
                Ok(())
            }
            _ => Err(Violation::new(
                Property::Listing,
                format!(
                    "DescribeStreamSummary of {stream} reports StreamARN {arn}, which is not an ARN of that stream"
                ),
            )),
        }
    }

    /// The ARN stream `name` was seen to have in a raw `DescribeStreamSummary` answer.
    pub fn stream_arn(&self, name: &str) -> Option<&str> {
        self.stream_arns.get(name).map(String::as_str)
    }

    /// The ARN the model reports for `name` when it answers itself.
    pub(super) fn arn_of(&self, name: &str) -> String {
        self.stream_arns
            .get(name)
            .cloned()
            .unwrap_or_else(|| wire::Identity::local().stream_arn(name))
    }

    fn encode(&self, outcome: &Outcome) -> RawReply {
        wire::encode_outcome(outcome, |name| self.arn_of(name))
    }
}

/// How a lax front end most plausibly read a request Kinesis refuses, when one reading is
/// plain: the operation named by the target's last part (whatever the prefix), the stream
/// named by `StreamName` alone (a contradicting `StreamARN` ignored). `None` when the body
/// itself does not decode, so what was stored cannot be known.
fn lenient_reading(req: &RawRequest) -> Option<Decoded> {
    let target = wire::target(req.operation());
    let mut body: serde_json::Value = serde_json::from_str(&req.body).ok()?;
    if body.get("StreamName").is_some() {
        body.as_object_mut()?.remove("StreamARN");
    }
    wire::decode_request(&target, &body.to_string()).ok()
}
