# pth2blob on models it must not misread (issue 17): a forward() it cannot
# read is refused unless --arch gives the order or the user assumes it; a
# CNN takes its shape from --input-shape or a leading Unflatten; a
# state_dict CNN needs --arch; --verify compares with torch when a python3
# with torch is there (skipped visibly otherwise).
. tests/e2e/lib.sh
P=$BUILD/pth2blob
F=fixtures/pth
mkdir "$T/out"

out=$("$P" --help)
check_contains "help: --input-shape" "--input-shape C,H,W" "$out"
check_contains "help: --assume-registration-order" "--assume-registration-order" "$out"
check_contains "help: --verify runs the model's own Python" "RUNS THE MODEL'S OWN" "$out"
check_contains "help: --verify-input" "--verify-input FILE" "$out"

# ---- a forward() that cannot be read: refused, nothing written ----
out=$("$P" "$F/order_net.pth" "$T/out/o.blob" 2>&1); rc=$?
[ $rc -eq 1 ] && ok "relu registered before fc1: refused (exit 1)" || not_ok "relu registered before fc1: refused" "rc=$rc" "$out"
check_contains "the refusal names the module and its children" \
	"(root): the forward() of mymodels.OrderNet cannot be read and its 3 children that compute (relu, fc1, fc2)" "$out"
check_contains "the refusal names nn.Sequential" "Wrap the layers in nn.Sequential" "$out"
check_contains "the refusal names --arch" "give the order forward() runs them in with --arch" "$out"
check_contains "the refusal names --assume-registration-order" "--assume-registration-order" "$out"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && ok "the refusal is one line" || not_ok "the refusal is one line" "$out"
check_fails "a skip connection: refused" "mymodels.ResidualNet cannot be read" "$P" "$F/residual_net.pth" "$T/out/r.blob"
check_fails "a ModuleList looped in forward(): refused" "ModuleList cannot be read" "$P" "$F/list_net.pth" \
	"$T/out/l.blob"
check_fails "features + head: refused" "mymodels.TwoPart cannot be read" "$P" "$F/usernet2.pth" "$T/out/u.blob"
if [ -z "$(ls -A "$T/out")" ]; then ok "refusals left no file behind"; else not_ok "refusals left no file behind" "$(ls -A "$T/out")"; fi

# ---- --arch gives the order, checked against the children ----
check "--arch fc1,relu,fc2 converts" "$P" -q --arch fc1,relu,fc2 "$F/order_net.pth" "$T/o.blob"
out=$("$P" --inspect "$T/o.blob")
lay=$(printf '%s\n' "$out" | sed -n '/^layers:/,$p' | awk 'NR > 1 { print $2 }' | paste -sd, -)
[ "$lay" = linear,relu,linear ] && ok "--arch: layers in forward()'s order" || not_ok "--arch: layers in forward()'s order" "$lay"
printf '%s' "$out" | grep -q "execution order" && not_ok "--arch: no assumed order in --inspect" "$out" ||
	ok "--arch: no assumed order in --inspect"
check "--arch over a ModuleList's items" "$P" -q --arch layers.0,relu,layers.1,relu,layers.2 "$F/list_net.pth" "$T/l.blob"
check_fails "--arch leaving a layer out" "--arch leaves fc2 (torch.nn.modules.linear.Linear) unused" \
	"$P" --arch fc1,relu "$F/order_net.pth" "$T/out/x.blob"
check_fails "--arch with a wrong type" "--arch: fc1 is a torch.nn.modules.linear.Linear, not a conv2d" \
	"$P" --arch fc1=conv2d,relu,fc2 "$F/order_net.pth" "$T/out/x.blob"
check_fails "--arch in a shape-breaking order" "fc1: Linear expects 32 input features but fc2 gives 10" \
	"$P" --arch fc2,relu,fc1 "$F/order_net.pth" "$T/out/x.blob"

# ---- --assume-registration-order: today's reading, marked ----
out=$("$P" --assume-registration-order "$F/order_net.pth" "$T/a.blob" 2>&1)
check_contains "--assume-registration-order: noted" "assumed to run them in registration order" "$out"
out=$("$P" --inspect "$T/a.blob")
check_contains "--inspect says the order was assumed" "execution order: assumed (registration order)" "$out"

# ---- CNNs: the input shape ----
check_fails "a leading conv without a shape asks for --input-shape" \
	"0: conv2d needs the input's shape, which the file does not say: pass --input-shape C,H,W" \
	"$P" "$F/cnn_noshape.pth" "$T/out/x.blob"
check "--input-shape 1,6,6 converts it" "$P" -q --input-shape 1,6,6 "$F/cnn_noshape.pth" "$T/c.blob"
out=$("$P" --inspect "$T/c.blob")
check_contains "--inspect: the input shape" "input shape:  1 x 6 x 6 (C x H x W)" "$out"
check_contains "--inspect: a convolution's geometry" \
	"conv2d       1x6x6 -> 4x6x6, kernel 3x3, stride 1x1, padding 1x1" "$out"
check_contains "--inspect: an adaptive pool" "adaptive_avgpool2d 8x2x2 -> 8x2x2" "$out"
check_fails "--input-shape that is not C,H,W" "--input-shape 1,28: give C,H,W" \
	"$P" --input-shape 1,28 "$F/cnn_noshape.pth" "$T/out/x.blob"
check "a leading Unflatten gives the shape" "$P" -q "$F/cnn_bn.pth" "$T/b.blob"
check_contains "--inspect: folded BatchNorm and scale_shift" "scale_shift  4x8x8 -> 4x8x8" "$("$P" --inspect "$T/b.blob")"
check_fails "a state_dict CNN asks for --arch" "a state_dict stores no strides, padding or pools: give the architecture with --arch" \
	"$P" "$F/cnn_sd.pth" "$T/out/x.blob"
SD_ARCH='unflatten(1,6,6),conv2d(padding=1),batchnorm2d,relu,maxpool2d(2),conv2d,relu,adaptive_avgpool2d(2),flatten,linear'
check "a state_dict CNN with --arch" "$P" -q --arch "$SD_ARCH" "$F/cnn_sd.pth" "$T/s.blob"
a=$("$P" --inspect "$T/s.blob" | sed -n '/^layers:/,$p')
b=$("$P" --inspect "$T/c.blob" | sed -n '/^layers:/,$p')
[ -n "$a" ] && [ "$a" = "$b" ] && ok "state_dict + --arch and the whole module give the same layers" ||
	not_ok "state_dict + --arch and the whole module give the same layers" "$a" "$b"
if [ -z "$(ls -A "$T/out")" ]; then ok "no file behind any refusal"; else not_ok "no file behind any refusal" "$(ls -A "$T/out")"; fi

# ---- --verify: torch's own answer, where torch is importable ----
if /usr/bin/python3 -c 'import torch' 2>/dev/null || python3 -c 'import torch' 2>/dev/null; then
	out=$("$P" --verify "$F/cnn_bn.pth" "$T/v.blob" 2>&1)
	check_contains "--verify: the comparison is reported" "argmax agrees on 66/66" "$out"
	out=$("$P" --inspect "$T/v.blob")
	check_contains "--inspect: verified, with torch's version" "argmax 66/66, torch " "$out"
	# an --arch that is not what forward() does: a ReLU too many
	check_fails "--verify: a misread order fails" "verify: max |logit difference|" \
		"$P" --verify --arch 0,1,2,3,4,5,6,7,8,relu,9 "$F/cnn_bn.pth" "$T/out/x.blob"
	[ ! -e "$T/out/x.blob" ] && ok "--verify failure writes nothing" || not_ok "--verify failure writes nothing"
else
	for n in "--verify: the comparison is reported" "--inspect: verified" "--verify: a misread order fails" \
		"--verify failure writes nothing"; do
		echo "ok - $n # SKIP verify: no torch"
	done
fi
