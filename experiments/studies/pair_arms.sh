# Sourced, not run: the arms of the two pair studies, defined once for the
# CPU scripts (pair_run.sh, subscale_pair.sh) and the GPU lease
# (experiments/tools/device_job.sh, JOB=pairs).
#
#   arm NAME   sets $arm_config (the --config= value) and the array
#              arm_flags (the model's recipe and the arm's own flags)
#
# The caller sets $steps (training steps; the pruning schedule follows it)
# and $batch (crops per step of a dense arm: 8 on CPU, BATCH on the GPU;
# a Subscale arm takes batch / 4 crops four times as long, so every arm
# scores the same samples per step). What is the caller's own (time budget,
# log / eval / checkpoint intervals, the sparse training kernel) stays in
# the caller.
#
# The equal-non-zero pair (pair_run.sh, issue 11): dense H = 256 (298k
# non-zero cell weights) against 90 %-sparse H = 864 (16x1 blocks, R_u,
# R_r, R_e and O1..O4 pruned from 10 % to 50 % of the steps, as in the
# issue-13 sweep; 294k non-zeros). Pre-emphasis 0.85, LPC from the mel
# (order 16), Polyak average 0.999; scalar byte inputs, as in the sweep, so
# that the non-zero counts compare (embeddings are tables the paper's count
# has no place for).
#   dense256, sparse864
# The Subscale pair (subscale_pair.sh): dense H = 384 against Subscale
# H = 384 (B = 16, F = 64), pre-emphasis 0.85, embedded byte inputs, Polyak
# average 0.999, and no LPC for either (Subscale draws 16 samples of
# different times at once, so it cannot predict from the immediate past;
# the dense model goes without it too so that only the ordering differs).
# Dense sees crops of 400 samples, Subscale crops of 1,600 (16 sub-tensors
# of 100 folded samples each).
#   dense384          the dense arm
#   subscale384       the session-5 context net (no now_tap, no left_input)
#   subscale384_now   + subscale.now_tap (session 6): the context net's first
#                     layer also reads the current column of the earlier
#                     sub-tensors (x_{t-1} and the other samples just before
#                     (s, i) one layer from the cell)
#   subscale384_left  + subscale.left_input, left_samples=1 (session 6's
#                     defaults): x_{t-1} = (s - 1, i) embedded into the
#                     cell's input term, as the dense cell gets its previous
#                     sample (the GPU lease's Subscale arm, subscale384_v4)
#   subscale384_c32   session 6's defaults with twice the context-net
#                     channels per sub-tensor (subscale.channels 16 -> 32;
#                     session 7): is the context net's width what holds
#                     Subscale back?
#   subscale384_left4 the four samples right before (s, i) in time,
#                     x_{t-1} ... x_{t-4} = (s - 1, i) ... (s - 4, i), into
#                     the cell's input term (left_samples 1 -> 4; each zero
#                     where s < k; the default since session 7)
#   subscale384_bias  subscale384_left4 + subscale.sub_bias: a gate bias per
#                     sub-tensor (issue 27's first candidate; no gain)
#   subscale384_left15 every sample of the current column drawn before
#                     (s, i), x_{t-1} ... x_{t-15} (left_samples 4 -> 15):
#                     each step of direct samples has helped so far
#   subscale384_b4    subscale384_left4 at 4 crops of 800 samples (50 folded
#                     steps) instead of 2 of 1,600: the same samples per
#                     step from twice the windows (issue 27: Subscale's own
#                     gradient noise, its 16 sub-tensors of one window being
#                     far from independent)
#   subscale384_lpc   subscale384_left4 + subscale.lpc_order=15: each sample
#                     modelled as its excitation after linear prediction from
#                     the min(s, 15) samples of its column drawn before it
#                     (issue 27: noise shaping Subscale can use)
#   subscale384_lpc_b4 the two winners together: subscale384_lpc at 4 crops
#                     of 800 (issue 27: combine the winners)
#   subscale384_lpc_bias subscale384_lpc + subscale.sub_bias: with prediction
#                     the excitation's scale depends on the sub-tensor's
#                     order, so the cell is told which sub-tensor it is in
#   subscale384_lpc2  subscale384_lpc + subscale.lpc_two_sided: the
#                     predictor of (s, i) also reads the next column's
#                     samples of the earlier sub-tensors, x_{t+16-s} ...
#                     (min(s, 15) of them): an interpolator where s is large
#   dense384_lpc      dense384 + LPC from the mel (model.lpc_order=16): the
#                     dense pair of subscale384_lpc, both noise-shaped
arm() {  # NAME
  local config=experiments/configs/wavernn.py
  local pair=(--config.model.emphasis=0.85 --config.model.embed_inputs=false
              --config.model.lpc_order=16 --config.model.pitch=false
              --config.train.ema_decay=0.999
              --config.data.batch_size="$batch")
  local sub=(--config.model.emphasis=0.85 --config.model.embed_inputs=true
             --config.model.lpc_order=0 --config.model.pitch=false
             --config.train.ema_decay=0.999)
  local subscale="$config:variant=subscale,hidden=384,batch_factor=16,horizon=64,steps=$steps"
  # Every Subscale arm starts from no prediction (the config's default
  # since issue 27 is two-sided prediction) and sets its own.
  local subs=("${sub[@]}" --config.subscale.lpc_order=0
              --config.subscale.lpc_two_sided=false)
  local sub_data=(--config.data.batch_size=$((batch / 4))
                  --config.data.crop_samples=1600)
  local crops800=(--config.data.batch_size=$((batch / 2))
                  --config.data.crop_samples=800)
  # Session 7's context defaults (the left4 arm), and with prediction.
  local left4=(--config.subscale.now_tap=true --config.subscale.left_input=true
               --config.subscale.left_samples=4)
  local lpc15=("${left4[@]}" --config.subscale.lpc_order=15)
  case "$1" in
    dense256)
      arm_config="$config:hidden=256,steps=$steps"
      arm_flags=("${pair[@]}") ;;
    sparse864)
      arm_config="$config:variant=sparse,hidden=864,sparsity=0.9,block=16x1,steps=$steps"
      arm_flags=("${pair[@]}" --config.sparsity.matrices=R_u,R_r,R_e,O1,O2,O3,O4
                 --config.sparsity.start_step=$((steps / 10))
                 --config.sparsity.ramp_steps=$((steps * 2 / 5))
                 --config.sparsity.update_every=$((steps / 40 > 0 ? steps / 40 : 1))) ;;
    dense384)
      arm_config="$config:hidden=384,steps=$steps"
      arm_flags=("${sub[@]}" --config.data.batch_size="$batch"
                 --config.data.crop_samples=400) ;;
    dense384_lpc)
      arm_config="$config:hidden=384,steps=$steps"
      arm_flags=("${sub[@]}" --config.data.batch_size="$batch"
                 --config.data.crop_samples=400 --config.model.lpc_order=16) ;;
    subscale384)
      arm_config=$subscale
      arm_flags=("${subs[@]}" "${sub_data[@]}"
                 --config.subscale.now_tap=false --config.subscale.left_input=false) ;;
    subscale384_now)
      arm_config=$subscale
      arm_flags=("${subs[@]}" "${sub_data[@]}"
                 --config.subscale.now_tap=true --config.subscale.left_input=false) ;;
    subscale384_left)
      arm_config=$subscale
      arm_flags=("${subs[@]}" "${sub_data[@]}"
                 --config.subscale.now_tap=true --config.subscale.left_input=true
                 --config.subscale.left_samples=1) ;;
    subscale384_c32)
      arm_config=$subscale
      arm_flags=("${subs[@]}" "${sub_data[@]}"
                 --config.subscale.now_tap=true --config.subscale.left_input=true
                 --config.subscale.left_samples=1 --config.subscale.channels=32) ;;
    subscale384_left4)
      arm_config=$subscale
      arm_flags=("${subs[@]}" "${sub_data[@]}" "${left4[@]}") ;;
    subscale384_bias)
      arm_config=$subscale
      arm_flags=("${subs[@]}" "${sub_data[@]}" "${left4[@]}"
                 --config.subscale.sub_bias=true) ;;
    subscale384_left15)
      arm_config=$subscale
      arm_flags=("${subs[@]}" "${sub_data[@]}"
                 --config.subscale.now_tap=true --config.subscale.left_input=true
                 --config.subscale.left_samples=15) ;;
    subscale384_b4)
      arm_config=$subscale
      arm_flags=("${subs[@]}" "${crops800[@]}" "${left4[@]}") ;;
    subscale384_lpc)
      arm_config=$subscale
      arm_flags=("${subs[@]}" "${sub_data[@]}" "${lpc15[@]}") ;;
    subscale384_lpc_b4)
      arm_config=$subscale
      arm_flags=("${subs[@]}" "${crops800[@]}" "${lpc15[@]}") ;;
    subscale384_lpc_bias)
      arm_config=$subscale
      arm_flags=("${subs[@]}" "${sub_data[@]}" "${lpc15[@]}"
                 --config.subscale.sub_bias=true) ;;
    subscale384_lpc2)
      arm_config=$subscale
      arm_flags=("${subs[@]}" "${sub_data[@]}" "${lpc15[@]}"
                 --config.subscale.lpc_two_sided=true) ;;
    *) echo "error: unknown arm '$1'; see experiments/studies/pair_arms.sh." >&2
       return 1 ;;
  esac
}
